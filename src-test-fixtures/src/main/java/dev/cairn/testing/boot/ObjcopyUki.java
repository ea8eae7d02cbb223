package dev.cairn.testing.boot;

import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A UKI assembled the traditional way, with {@code objcopy --add-section … --change-section-vma …}
 * on top of systemd's EFI stub: the stand-in (and oracle) for cairn's own UKI builder.
 *
 * <p>Sections get virtual addresses in the order given, the first one after the stub's last
 * section, each aligned to 4 KiB (a multiple of the Debian 12 stub's SectionAlignment 0x200), so
 * they never overlap.
 */
public final class ObjcopyUki {
    /** Debian 12's stub ({@code systemd-boot-efi} 252). */
    public static final Path DEBIAN_STUB = Path.of("/usr/lib/systemd/boot/efi/linuxx64.efi.stub");
    static final long ALIGN = 0x1000;

    /** One section to add: {@code .osrel}, {@code .cmdline}, {@code .linux}, {@code .initrd}, … */
    public record Section(String name, Path content) {
    }

    /** One placed section. */
    public record Placement(String name, long vma, long size) {
    }

    private ObjcopyUki() {
    }

    /** Builds {@code out} from {@code stub} plus {@code sections}; returns where each section went. */
    public static List<Placement> build(Path stub, List<Section> sections, Path out) {
        ToolOracle objcopy = ToolOracle.require("objcopy", "binutils");
        List<Placement> placed = layout(firstFreeAddress(stub), sections);
        List<String> args = new ArrayList<>();
        for (int i = 0; i < sections.size(); i++) {
            Section s = sections.get(i);
            args.add("--add-section");
            args.add(s.name() + "=" + s.content());
            args.add("--change-section-vma");
            args.add(s.name() + "=0x" + Long.toHexString(placed.get(i).vma()));
        }
        args.add(stub.toString());
        args.add(out.toString());
        objcopy.run(ToolOracle.DEFAULT_TIMEOUT, null, args, null).assertExit(0);
        return placed;
    }

    static List<Placement> layout(long first, List<Section> sections) {
        List<Placement> placed = new ArrayList<>();
        long vma = alignUp(first);
        for (Section s : sections) {
            long size;
            try {
                size = Files.size(s.content());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            placed.add(new Placement(s.name(), vma, size));
            vma = alignUp(vma + size);
        }
        return placed;
    }

    /** The end of the stub's last section in memory (max of VirtualAddress + VirtualSize). */
    static long firstFreeAddress(Path stub) {
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(stub)).order(ByteOrder.LITTLE_ENDIAN);
            int pe = b.getInt(0x3c);
            if (b.getInt(pe) != 0x00004550) {
                throw new IllegalArgumentException(stub + " is not a PE image");
            }
            int sections = Short.toUnsignedInt(b.getShort(pe + 6));
            int optional = Short.toUnsignedInt(b.getShort(pe + 20));
            int table = pe + 24 + optional;
            long end = 0;
            for (int i = 0; i < sections; i++) {
                int h = table + i * 40;
                long virtualSize = Integer.toUnsignedLong(b.getInt(h + 8));
                long virtualAddress = Integer.toUnsignedLong(b.getInt(h + 12));
                end = Math.max(end, virtualAddress + virtualSize);
            }
            return end;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long alignUp(long v) {
        return (v + ALIGN - 1) & -ALIGN;
    }
}
