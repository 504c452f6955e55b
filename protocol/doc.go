// Package protocol implements the over-the-air part of Bluezone: the Exposure
// Notification v1.2 cryptography (Temporary Exposure Keys, Rolling Proximity
// Identifiers, Associated Encrypted Metadata) and the BLE advertisement that
// carries them.
//
// Everything here is interoperable on purpose: identifiers derived by this
// package are byte-for-byte those of the Apple/Google specification, checked
// against its published test vectors.
//
// The key-export file format lives in the sub-package export.
package protocol
