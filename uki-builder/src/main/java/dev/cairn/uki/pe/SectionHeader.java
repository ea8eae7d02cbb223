package dev.cairn.uki.pe;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.nio.charset.StandardCharsets;

/**
 * Section table entry (PE/COFF §4). Names are at most 8 ASCII bytes, NUL-padded; executables
 * have no long-name indirection.
 *
 * @param name                 +0  8 bytes
 * @param virtualSize          +8  u32
 * @param virtualAddress       +12 u32 (RVA)
 * @param sizeOfRawData        +16 u32
 * @param pointerToRawData     +20 u32 (file offset)
 * @param pointerToRelocations +24 u32
 * @param pointerToLinenumbers +28 u32
 * @param numberOfRelocations  +32 u16
 * @param numberOfLinenumbers  +34 u16
 * @param characteristics      +36 u32
 */
public record SectionHeader(String name, long virtualSize, long virtualAddress, long sizeOfRawData, long pointerToRawData,
                            long pointerToRelocations, long pointerToLinenumbers, int numberOfRelocations,
                            int numberOfLinenumbers, long characteristics) {
    public static final int SIZE = 40;
    public static final long CNT_CODE = 0x0000_0020L;
    public static final long CNT_INITIALIZED_DATA = 0x0000_0040L;
    public static final long MEM_EXECUTE = 0x2000_0000L;
    public static final long MEM_READ = 0x4000_0000L;
    public static final long MEM_WRITE = 0x8000_0000L;

    public SectionHeader {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        boolean printable = true;
        for (int i = 0; i < name.length(); i++) { // a loop: a stream here made every PE reader set up java.util.stream (4-5 ms cold)
            char c = name.charAt(i);
            printable &= c > 0x20 && c < 0x7F;
        }
        if (n.length > 8 || !printable) {
            throw new IllegalArgumentException("section name must be 1-8 printable ASCII characters: " + name);
        }
    }

    public static SectionHeader decode(byte[] b, int off, int index) throws FormatException {
        String field = "section[" + index + "]";
        if (off < 0 || off > b.length - SIZE) {
            throw new FormatException(off, field, null, "section header lies outside the headers");
        }
        int len = 0;
        while (len < 8 && b[off + len] != 0) {
            len++;
        }
        for (int i = len; i < 8; i++) {
            if (b[off + i] != 0) {
                throw new FormatException(off, field + ".Name", null, "section name has bytes after its NUL terminator");
            }
        }
        for (int i = 0; i < len; i++) {
            if (b[off + i] <= 0x20 || b[off + i] >= 0x7F) {
                throw new FormatException(off, field + ".Name", null, "section name is not printable ASCII");
            }
        }
        if (len == 0) {
            throw new FormatException(off, field + ".Name", null, "section name is empty");
        }
        return new SectionHeader(new String(b, off, len, StandardCharsets.US_ASCII),
                LittleEndian.u32(b, off + 8, field + ".VirtualSize"),
                LittleEndian.u32(b, off + 12, field + ".VirtualAddress"),
                LittleEndian.u32(b, off + 16, field + ".SizeOfRawData"),
                LittleEndian.u32(b, off + 20, field + ".PointerToRawData"),
                LittleEndian.u32(b, off + 24, field + ".PointerToRelocations"),
                LittleEndian.u32(b, off + 28, field + ".PointerToLinenumbers"),
                LittleEndian.u16(b, off + 32, field + ".NumberOfRelocations"),
                LittleEndian.u16(b, off + 34, field + ".NumberOfLinenumbers"),
                LittleEndian.u32(b, off + 36, field + ".Characteristics"));
    }

    public void encode(byte[] b, int off) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 8; i++) {
            b[off + i] = i < n.length ? n[i] : 0;
        }
        LittleEndian.putU32(b, off + 8, virtualSize);
        LittleEndian.putU32(b, off + 12, virtualAddress);
        LittleEndian.putU32(b, off + 16, sizeOfRawData);
        LittleEndian.putU32(b, off + 20, pointerToRawData);
        LittleEndian.putU32(b, off + 24, pointerToRelocations);
        LittleEndian.putU32(b, off + 28, pointerToLinenumbers);
        LittleEndian.putU16(b, off + 32, numberOfRelocations);
        LittleEndian.putU16(b, off + 34, numberOfLinenumbers);
        LittleEndian.putU32(b, off + 36, characteristics);
    }

    /** A section added by a UKI builder: no relocations or line numbers. */
    public static SectionHeader of(String name, long virtualSize, long virtualAddress, long sizeOfRawData, long pointerToRawData,
                                   long characteristics) {
        return new SectionHeader(name, virtualSize, virtualAddress, sizeOfRawData, pointerToRawData, 0, 0, 0, 0, characteristics);
    }

    public SectionHeader withRaw(long pointer, long size) {
        return new SectionHeader(name, virtualSize, virtualAddress, size, pointer, pointerToRelocations, pointerToLinenumbers,
                numberOfRelocations, numberOfLinenumbers, characteristics);
    }

    public SectionHeader withSizes(long newVirtualSize, long newSizeOfRawData) {
        return new SectionHeader(name, newVirtualSize, virtualAddress, newSizeOfRawData, pointerToRawData, pointerToRelocations,
                pointerToLinenumbers, numberOfRelocations, numberOfLinenumbers, characteristics);
    }

    /** End of the section in the image's address space (VirtualAddress + VirtualSize). */
    public long virtualEnd() {
        return virtualAddress + virtualSize;
    }

    /** Bytes of the section in the file: min(VirtualSize, SizeOfRawData), as loaders and systemd read it. */
    public long loadedSize() {
        return Math.min(virtualSize, sizeOfRawData);
    }

    /*
     * Loops and anonymous classes rather than streams and lambdas: every fresh JVM that reads a PE
     * runs these once, and each lambda call site costs it some 0.6 ms to link (bench/startup.sh).
     */

    /** Those of {@code headers} with raw data, in file order (by PointerToRawData; ties keep their order). */
    public static java.util.List<SectionHeader> inFileOrder(java.util.List<SectionHeader> headers) {
        java.util.List<SectionHeader> out = new java.util.ArrayList<>();
        for (SectionHeader h : headers) {
            if (h.sizeOfRawData() > 0) {
                out.add(h);
            }
        }
        out.sort(BY_RAW);
        return java.util.List.copyOf(out);
    }

    /** Those of {@code headers} that occupy memory, in address order (by VirtualAddress; ties keep their order). */
    public static java.util.List<SectionHeader> inMemoryOrder(java.util.List<SectionHeader> headers) {
        java.util.List<SectionHeader> out = new java.util.ArrayList<>();
        for (SectionHeader h : headers) {
            if (h.virtualSize() > 0) {
                out.add(h);
            }
        }
        out.sort(BY_VA);
        return java.util.List.copyOf(out);
    }

    private static final java.util.Comparator<SectionHeader> BY_RAW = new java.util.Comparator<>() {
        @Override
        public int compare(SectionHeader a, SectionHeader b) {
            return Long.compare(a.pointerToRawData(), b.pointerToRawData());
        }
    };

    private static final java.util.Comparator<SectionHeader> BY_VA = new java.util.Comparator<>() {
        @Override
        public int compare(SectionHeader a, SectionHeader b) {
            return Long.compare(a.virtualAddress(), b.virtualAddress());
        }
    };
}
