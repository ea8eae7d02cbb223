package dev.cairn.uki.pe;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.util.ArrayList;
import java.util.List;

/**
 * Optional header of an image (PE/COFF §3.4), PE32 ({@code 0x10B}) or PE32+ ({@code 0x20B}).
 * Offsets below are PE32+; PE32 has {@code BaseOfData} at +24, a 32-bit {@code ImageBase} at
 * +28 and 32-bit stack/heap sizes, which moves the fields after +72 four bytes per field earlier
 * (data directories at +96 instead of +112).
 *
 * @param magic                   +0  u16
 * @param majorLinkerVersion      +2  u8
 * @param minorLinkerVersion      +3  u8
 * @param sizeOfCode              +4  u32
 * @param sizeOfInitializedData   +8  u32
 * @param sizeOfUninitializedData +12 u32
 * @param addressOfEntryPoint     +16 u32
 * @param baseOfCode              +20 u32
 * @param baseOfData              PE32 only: +24 u32 (0 for PE32+)
 * @param imageBase               +24 u64 (PE32: +28 u32)
 * @param sectionAlignment        +32 u32
 * @param fileAlignment           +36 u32
 * @param majorOsVersion          +40 u16
 * @param minorOsVersion          +42 u16
 * @param majorImageVersion       +44 u16
 * @param minorImageVersion       +46 u16
 * @param majorSubsystemVersion   +48 u16
 * @param minorSubsystemVersion   +50 u16
 * @param win32VersionValue       +52 u32
 * @param sizeOfImage             +56 u32
 * @param sizeOfHeaders           +60 u32
 * @param checkSum                +64 u32
 * @param subsystem               +68 u16
 * @param dllCharacteristics      +70 u16
 * @param sizeOfStackReserve      +72 u64 (PE32: u32)
 * @param sizeOfStackCommit       +80 u64 (PE32: +76 u32)
 * @param sizeOfHeapReserve       +88 u64 (PE32: +80 u32)
 * @param sizeOfHeapCommit        +96 u64 (PE32: +84 u32)
 * @param loaderFlags             +104 u32 (PE32: +88)
 * @param numberOfRvaAndSizes     +108 u32 (PE32: +92)
 * @param dataDirectories         +112 (PE32: +96), {@code numberOfRvaAndSizes} × 8 bytes
 */
public record OptionalHeader(int magic, int majorLinkerVersion, int minorLinkerVersion, long sizeOfCode,
                             long sizeOfInitializedData, long sizeOfUninitializedData, long addressOfEntryPoint,
                             long baseOfCode, long baseOfData, long imageBase, long sectionAlignment, long fileAlignment,
                             int majorOsVersion, int minorOsVersion, int majorImageVersion, int minorImageVersion,
                             int majorSubsystemVersion, int minorSubsystemVersion, long win32VersionValue,
                             long sizeOfImage, long sizeOfHeaders, long checkSum, int subsystem, int dllCharacteristics,
                             long sizeOfStackReserve, long sizeOfStackCommit, long sizeOfHeapReserve, long sizeOfHeapCommit,
                             long loaderFlags, long numberOfRvaAndSizes, List<DataDirectory> dataDirectories) {
    public static final int PE32 = 0x10B;
    public static final int PE32_PLUS = 0x20B;
    /** Offset of CheckSum from the start of the optional header (both formats). */
    public static final int CHECKSUM_OFFSET = 64;
    public static final int SUBSYSTEM_EFI_APPLICATION = 10;
    public static final int DLL_NX_COMPAT = 0x0100;
    /** The most data directories an image may declare (PE/COFF §3.4.3). */
    public static final int MAX_DATA_DIRECTORIES = 16;

    public OptionalHeader {
        dataDirectories = List.copyOf(dataDirectories);
    }

    public boolean isPe32Plus() {
        return magic == PE32_PLUS;
    }

    /** Offset of the first data directory from the start of the optional header. */
    public int dataDirectoriesOffset() {
        return isPe32Plus() ? 112 : 96;
    }

    /** Size of this header as encoded (fixed part + directories). */
    public int encodedSize() {
        return dataDirectoriesOffset() + DataDirectory.SIZE * dataDirectories.size();
    }

    public DataDirectory directory(int index) {
        return index < dataDirectories.size() ? dataDirectories.get(index) : DataDirectory.EMPTY;
    }

    public static OptionalHeader decode(byte[] b, int off, int sizeOfOptionalHeader) throws FormatException {
        int magic = LittleEndian.u16(b, off, "OptionalHeader.Magic");
        boolean plus;
        if (magic == PE32_PLUS) {
            plus = true;
        } else if (magic == PE32) {
            plus = false;
        } else {
            throw new FormatException(off, "OptionalHeader.Magic", String.format("0x%x", magic), "not a PE32 or PE32+ image");
        }
        int w = plus ? 8 : 4; // width of ImageBase and stack/heap sizes
        long baseOfData = plus ? 0 : LittleEndian.u32(b, off + 24, "BaseOfData");
        long imageBase = plus ? LittleEndian.u64(b, off + 24, "ImageBase") : LittleEndian.u32(b, off + 28, "ImageBase");
        int sizes = 72;
        int tail = sizes + 4 * w;
        long numberOfRvaAndSizes = LittleEndian.u32(b, off + tail + 4, "NumberOfRvaAndSizes");
        int dirOff = tail + 8;
        if (numberOfRvaAndSizes > MAX_DATA_DIRECTORIES) {
            throw new FormatException(off + tail + 4, "NumberOfRvaAndSizes", numberOfRvaAndSizes, "more than 16 data directories");
        }
        if (dirOff + DataDirectory.SIZE * numberOfRvaAndSizes > sizeOfOptionalHeader) {
            throw new FormatException(off + tail + 4, "NumberOfRvaAndSizes", numberOfRvaAndSizes,
                    "data directories do not fit in SizeOfOptionalHeader=" + sizeOfOptionalHeader);
        }
        List<DataDirectory> dirs = new ArrayList<>();
        for (int i = 0; i < numberOfRvaAndSizes; i++) {
            dirs.add(DataDirectory.decode(b, off + dirOff + DataDirectory.SIZE * i, "DataDirectory[" + i + "]"));
        }
        return new OptionalHeader(magic,
                LittleEndian.u8(b, off + 2, "MajorLinkerVersion"), LittleEndian.u8(b, off + 3, "MinorLinkerVersion"),
                LittleEndian.u32(b, off + 4, "SizeOfCode"), LittleEndian.u32(b, off + 8, "SizeOfInitializedData"),
                LittleEndian.u32(b, off + 12, "SizeOfUninitializedData"), LittleEndian.u32(b, off + 16, "AddressOfEntryPoint"),
                LittleEndian.u32(b, off + 20, "BaseOfCode"), baseOfData, imageBase,
                LittleEndian.u32(b, off + 32, "SectionAlignment"), LittleEndian.u32(b, off + 36, "FileAlignment"),
                LittleEndian.u16(b, off + 40, "MajorOperatingSystemVersion"), LittleEndian.u16(b, off + 42, "MinorOperatingSystemVersion"),
                LittleEndian.u16(b, off + 44, "MajorImageVersion"), LittleEndian.u16(b, off + 46, "MinorImageVersion"),
                LittleEndian.u16(b, off + 48, "MajorSubsystemVersion"), LittleEndian.u16(b, off + 50, "MinorSubsystemVersion"),
                LittleEndian.u32(b, off + 52, "Win32VersionValue"), LittleEndian.u32(b, off + 56, "SizeOfImage"),
                LittleEndian.u32(b, off + 60, "SizeOfHeaders"), LittleEndian.u32(b, off + 64, "CheckSum"),
                LittleEndian.u16(b, off + 68, "Subsystem"), LittleEndian.u16(b, off + 70, "DllCharacteristics"),
                word(b, off + sizes, w, "SizeOfStackReserve"), word(b, off + sizes + w, w, "SizeOfStackCommit"),
                word(b, off + sizes + 2 * w, w, "SizeOfHeapReserve"), word(b, off + sizes + 3 * w, w, "SizeOfHeapCommit"),
                LittleEndian.u32(b, off + tail, "LoaderFlags"), numberOfRvaAndSizes, dirs);
    }

    private static long word(byte[] b, int off, int width, String field) throws FormatException {
        return width == 8 ? LittleEndian.u64(b, off, field) : LittleEndian.u32(b, off, field);
    }

    public void encode(byte[] b, int off) {
        boolean plus = isPe32Plus();
        int w = plus ? 8 : 4;
        LittleEndian.putU16(b, off, magic);
        b[off + 2] = (byte) majorLinkerVersion;
        b[off + 3] = (byte) minorLinkerVersion;
        LittleEndian.putU32(b, off + 4, sizeOfCode);
        LittleEndian.putU32(b, off + 8, sizeOfInitializedData);
        LittleEndian.putU32(b, off + 12, sizeOfUninitializedData);
        LittleEndian.putU32(b, off + 16, addressOfEntryPoint);
        LittleEndian.putU32(b, off + 20, baseOfCode);
        if (plus) {
            LittleEndian.putU64(b, off + 24, imageBase);
        } else {
            LittleEndian.putU32(b, off + 24, baseOfData);
            LittleEndian.putU32(b, off + 28, imageBase);
        }
        LittleEndian.putU32(b, off + 32, sectionAlignment);
        LittleEndian.putU32(b, off + 36, fileAlignment);
        LittleEndian.putU16(b, off + 40, majorOsVersion);
        LittleEndian.putU16(b, off + 42, minorOsVersion);
        LittleEndian.putU16(b, off + 44, majorImageVersion);
        LittleEndian.putU16(b, off + 46, minorImageVersion);
        LittleEndian.putU16(b, off + 48, majorSubsystemVersion);
        LittleEndian.putU16(b, off + 50, minorSubsystemVersion);
        LittleEndian.putU32(b, off + 52, win32VersionValue);
        LittleEndian.putU32(b, off + 56, sizeOfImage);
        LittleEndian.putU32(b, off + 60, sizeOfHeaders);
        LittleEndian.putU32(b, off + 64, checkSum);
        LittleEndian.putU16(b, off + 68, subsystem);
        LittleEndian.putU16(b, off + 70, dllCharacteristics);
        long[] sizes = {sizeOfStackReserve, sizeOfStackCommit, sizeOfHeapReserve, sizeOfHeapCommit};
        for (int i = 0; i < 4; i++) {
            if (plus) {
                LittleEndian.putU64(b, off + 72 + 8 * i, sizes[i]);
            } else {
                LittleEndian.putU32(b, off + 72 + 4 * i, sizes[i]);
            }
        }
        int tail = 72 + 4 * w;
        LittleEndian.putU32(b, off + tail, loaderFlags);
        LittleEndian.putU32(b, off + tail + 4, numberOfRvaAndSizes);
        for (int i = 0; i < dataDirectories.size(); i++) {
            dataDirectories.get(i).encode(b, off + tail + 8 + DataDirectory.SIZE * i);
        }
    }

    /** A copy with the layout fields a section-adding writer recomputes. */
    public OptionalHeader withLayout(long newSizeOfInitializedData, long newSizeOfImage, long newSizeOfHeaders, long newCheckSum,
                                     int newDllCharacteristics) {
        return new OptionalHeader(magic, majorLinkerVersion, minorLinkerVersion, sizeOfCode, newSizeOfInitializedData,
                sizeOfUninitializedData, addressOfEntryPoint, baseOfCode, baseOfData, imageBase, sectionAlignment, fileAlignment,
                majorOsVersion, minorOsVersion, majorImageVersion, minorImageVersion, majorSubsystemVersion, minorSubsystemVersion,
                win32VersionValue, newSizeOfImage, newSizeOfHeaders, newCheckSum, subsystem, newDllCharacteristics,
                sizeOfStackReserve, sizeOfStackCommit, sizeOfHeapReserve, sizeOfHeapCommit, loaderFlags, numberOfRvaAndSizes,
                dataDirectories);
    }

    /** A copy with one data directory replaced. */
    public OptionalHeader withDirectory(int index, DataDirectory d) {
        if (index >= dataDirectories.size()) {
            throw new IllegalArgumentException("image declares only " + dataDirectories.size() + " data directories");
        }
        List<DataDirectory> dirs = new ArrayList<>(dataDirectories);
        dirs.set(index, d);
        return new OptionalHeader(magic, majorLinkerVersion, minorLinkerVersion, sizeOfCode, sizeOfInitializedData,
                sizeOfUninitializedData, addressOfEntryPoint, baseOfCode, baseOfData, imageBase, sectionAlignment, fileAlignment,
                majorOsVersion, minorOsVersion, majorImageVersion, minorImageVersion, majorSubsystemVersion, minorSubsystemVersion,
                win32VersionValue, sizeOfImage, sizeOfHeaders, checkSum, subsystem, dllCharacteristics,
                sizeOfStackReserve, sizeOfStackCommit, sizeOfHeapReserve, sizeOfHeapCommit, loaderFlags, numberOfRvaAndSizes, dirs);
    }
}
