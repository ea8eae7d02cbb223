/** Unified Kernel Image builder, PE reader/writer and PCR 11 prediction. Not implemented yet. */
package dev.cairn.uki;
