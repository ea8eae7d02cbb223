/** dm-verity hash trees, superblocks, FEC and verification, byte-identical to veritysetup. */
package dev.cairn.verity;
