// Package exportpb holds the protobuf messages of the EN key-export format.
//
// Regenerate with scripts/genproto (installs protoc and protoc-gen-go if missing).
package exportpb

//go:generate ../../../../scripts/genproto
