/** The cairn command line. */
package dev.cairn.cli;
