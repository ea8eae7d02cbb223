/** SquashFS 4.0 writer and reader (issue: SquashFS in pure Java). Not implemented yet. */
package dev.cairn.squashfs;
