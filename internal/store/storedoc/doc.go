// Package storedoc encodes the records that both store backends keep as JSON
// documents (nested credentials, role permissions, sign-in grants), so the
// SQLite and PostgreSQL backends store exactly the same document shapes.
package storedoc
