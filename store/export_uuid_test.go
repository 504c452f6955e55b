package store

import "slices"

// UUIDMigrationVersion is the schema version that gives codes UUIDs.
var UUIDMigrationVersion = slices.Index(migrations, uuidMigration) + 1
