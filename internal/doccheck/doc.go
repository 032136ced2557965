// Package doccheck holds only a test: it compiles every Go code block of
// README.md and docs/*.md against the module, and runs the blocks whose
// output the document shows, so that the documentation's programs build
// and print what it says.
//
// A block fenced as ```go must be a complete file (it starts with a
// package clause). If the fence after it is ```text and the text before
// that fence says "prints", the block is run and its output must hold
// exactly those lines (in any order: jobs with parallelism above 1 print
// from several subtasks).
package doccheck
