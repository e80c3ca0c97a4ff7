// Package doccheck holds repository-wide checks of the Go sources that need
// no cloud SDK: every exported symbol has a doc comment, and every component
// constructor has a runnable example.
package doccheck
