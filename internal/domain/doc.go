// Package domain holds Tessera's plain data types: tenants, directory objects,
// credentials, signing keys, role assignments and audit events. It depends on
// the standard library only; rules live in the packages that use these types.
package domain
