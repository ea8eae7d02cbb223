package dev.cairn.uki.pe;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;

/**
 * COFF file header, right after the {@code PE\0\0} signature (PE/COFF specification §3.3).
 *
 * @param machine              +0  u16, 0x8664 x86-64, 0xAA64 arm64, 0x14C i386
 * @param numberOfSections     +2  u16
 * @param timeDateStamp        +4  u32
 * @param pointerToSymbolTable +8  u32, file offset of the COFF symbol table or 0
 * @param numberOfSymbols      +12 u32
 * @param sizeOfOptionalHeader +16 u16
 * @param characteristics      +18 u16
 */
public record CoffHeader(int machine, int numberOfSections, long timeDateStamp, long pointerToSymbolTable,
                         long numberOfSymbols, int sizeOfOptionalHeader, int characteristics) {
    public static final int SIZE = 20;
    public static final int IMAGE_FILE_LOCAL_SYMS_STRIPPED = 0x0008;
    public static final int MACHINE_AMD64 = 0x8664;
    public static final int MACHINE_ARM64 = 0xAA64;

    public static CoffHeader decode(byte[] b, int off) throws FormatException {
        return new CoffHeader(
                LittleEndian.u16(b, off, "Machine"),
                LittleEndian.u16(b, off + 2, "NumberOfSections"),
                LittleEndian.u32(b, off + 4, "TimeDateStamp"),
                LittleEndian.u32(b, off + 8, "PointerToSymbolTable"),
                LittleEndian.u32(b, off + 12, "NumberOfSymbols"),
                LittleEndian.u16(b, off + 16, "SizeOfOptionalHeader"),
                LittleEndian.u16(b, off + 18, "Characteristics"));
    }

    public void encode(byte[] b, int off) {
        LittleEndian.putU16(b, off, machine);
        LittleEndian.putU16(b, off + 2, numberOfSections);
        LittleEndian.putU32(b, off + 4, timeDateStamp);
        LittleEndian.putU32(b, off + 8, pointerToSymbolTable);
        LittleEndian.putU32(b, off + 12, numberOfSymbols);
        LittleEndian.putU16(b, off + 16, sizeOfOptionalHeader);
        LittleEndian.putU16(b, off + 18, characteristics);
    }

    public CoffHeader withNumberOfSections(int n) {
        return new CoffHeader(machine, n, timeDateStamp, pointerToSymbolTable, numberOfSymbols, sizeOfOptionalHeader, characteristics);
    }

    /** The symbol table removed, flagged as stripped (as ukify does). */
    public CoffHeader withoutSymbolTable() {
        return new CoffHeader(machine, numberOfSections, timeDateStamp, 0, 0, sizeOfOptionalHeader,
                characteristics | IMAGE_FILE_LOCAL_SYMS_STRIPPED);
    }

    public String machineName() {
        return switch (machine) {
            case MACHINE_AMD64 -> "x86-64";
            case MACHINE_ARM64 -> "aarch64";
            case 0x14C -> "i386";
            case 0x1C2, 0x1C4 -> "arm";
            case 0x5064 -> "riscv64";
            case 0x6264 -> "loongarch64";
            default -> String.format("0x%04x", machine);
        };
    }
}
