package dev.cairn.uki.pe;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;

/**
 * One optional-header data directory entry (PE/COFF §3.4.3). For the certificate table
 * ({@link #SECURITY}) {@code virtualAddress} is a file offset, not an RVA.
 *
 * @param virtualAddress +0 u32
 * @param size           +4 u32
 */
public record DataDirectory(long virtualAddress, long size) {
    public static final int SIZE = 8;
    public static final int BASE_RELOCATION = 5;
    public static final int SECURITY = 4;
    public static final int DEBUG = 6;
    public static final DataDirectory EMPTY = new DataDirectory(0, 0);

    public static DataDirectory decode(byte[] b, int off, String field) throws FormatException {
        return new DataDirectory(LittleEndian.u32(b, off, field + ".VirtualAddress"), LittleEndian.u32(b, off + 4, field + ".Size"));
    }

    public void encode(byte[] b, int off) {
        LittleEndian.putU32(b, off, virtualAddress);
        LittleEndian.putU32(b, off + 4, size);
    }

    public boolean isEmpty() {
        return virtualAddress == 0 && size == 0;
    }
}
