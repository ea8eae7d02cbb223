package dev.cairn.erofs;

import dev.cairn.io.LittleEndian;

/**
 * {@code struct erofs_deviceslot} (erofs-utils 1.8 {@code include/erofs_fs.h}): 128 bytes in the
 * device table at {@code devt_slotoff * 128}. A tar-index image has one extra device, the tar,
 * whose blocks the kernel maps at {@code mappedBlkaddr} of the primary device, which is where the
 * tar begins when it is appended to the image.
 */
record DeviceSlot(
        byte[] tag,          // 0x00 [64] (zero)
        long blocks,         // 0x40 u32, device size in blocks
        long mappedBlkaddr) { // 0x44 u32, 0x48..0x80 reserved
    static final int SIZE = 128;

    void encode(byte[] b, int off) {
        System.arraycopy(tag, 0, b, off, 64);
        LittleEndian.putU32(b, off + 0x40, blocks);
        LittleEndian.putU32(b, off + 0x44, mappedBlkaddr);
    }
}
