package dev.cairn.uki.initrd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.io.UnsupportedFeatureException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ElfLinkInfo} on synthetic ELF files: what it reads, and what it refuses without reading out of bounds. */
class ElfLinkInfoTest {
    @TempDir
    Path dir;

    Path write(byte[] b) throws IOException {
        return Files.write(dir.resolve("elf" + System.nanoTime()), b);
    }

    static byte[] sample() {
        return new TestElf().interp("/lib64/ld-linux-x86-64.so.2").needs("libfoo.so.1", "libc.so.6").soname("libsample.so.1")
                .runpath("$ORIGIN/../lib:/opt/x").bytes();
    }

    @Test
    void readsInterpreterNeededSonameAndRunpath() throws IOException {
        ElfLinkInfo i = ElfLinkInfo.read(write(sample()));
        assertThat(i.machine()).isEqualTo(62);
        assertThat(i.interpreter()).contains("/lib64/ld-linux-x86-64.so.2");
        assertThat(i.needed()).containsExactly("libfoo.so.1", "libc.so.6");
        assertThat(i.soname()).contains("libsample.so.1");
        assertThat(i.runpath()).containsExactly("$ORIGIN/../lib", "/opt/x");
        assertThat(i.hasRunpath()).isTrue();
        assertThat(i.rpath()).isEmpty();
    }

    @Test
    void rpathWithoutRunpath() throws IOException {
        ElfLinkInfo i = ElfLinkInfo.read(write(new TestElf().needs("a.so").rpath("/r1::/r2").bytes()));
        assertThat(i.interpreter()).isEmpty();
        assertThat(i.rpath()).containsExactly("/r1", "/r2");
        assertThat(i.hasRunpath()).isFalse();
    }

    @Test
    void refusesOtherClassesAndByteOrdersClearly() throws IOException {
        byte[] b32 = sample();
        b32[4] = 1;
        assertThatThrownBy(() -> ElfLinkInfo.read(write(b32))).isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("only 64-bit ELF").hasMessageContaining("32-bit");
        byte[] be = sample();
        be[5] = 2;
        assertThatThrownBy(() -> ElfLinkInfo.read(write(be))).isInstanceOf(UnsupportedFeatureException.class).hasMessageContaining("little-endian");
        assertThatThrownBy(() -> ElfLinkInfo.read(write("#!/bin/sh\necho hi\n".getBytes()))).isInstanceOf(FormatException.class)
                .hasMessageContaining("not an ELF file");
    }

    @Test
    void everyTruncationIsAFormatExceptionOrAConsistentPrefix() throws IOException {
        byte[] full = sample();
        for (int n = 0; n < full.length; n++) {
            Path p = write(Arrays.copyOf(full, n));
            assertThatThrownBy(() -> ElfLinkInfo.read(p)).as("truncated to %d bytes", n).isInstanceOf(FormatException.class);
        }
    }

    @Test
    void offsetsOutsideTheFileAreNamed() throws IOException {
        byte[] phoff = sample();
        ByteBuffer.wrap(phoff).order(ByteOrder.LITTLE_ENDIAN).putLong(32, 1L << 40);
        assertThatThrownBy(() -> ElfLinkInfo.read(write(phoff))).isInstanceOf(FormatException.class).hasMessageContaining("e_phoff");

        byte[] negative = sample();
        ByteBuffer.wrap(negative).order(ByteOrder.LITTLE_ENDIAN).putLong(32, -8);
        assertThatThrownBy(() -> ElfLinkInfo.read(write(negative))).isInstanceOf(FormatException.class).hasMessageContaining("e_phoff");

        byte[] interp = sample(); // PT_INTERP is program header 0
        ByteBuffer.wrap(interp).order(ByteOrder.LITTLE_ENDIAN).putLong(TestElf.phdrOffset(0) + 32, Long.MAX_VALUE);
        assertThatThrownBy(() -> ElfLinkInfo.read(write(interp))).isInstanceOf(FormatException.class).hasMessageContaining("PT_INTERP");

        byte[] dynamic = sample(); // PT_DYNAMIC is program header 2
        ByteBuffer.wrap(dynamic).order(ByteOrder.LITTLE_ENDIAN).putLong(TestElf.phdrOffset(2) + 8, dynamic.length - 8L);
        assertThatThrownBy(() -> ElfLinkInfo.read(write(dynamic))).isInstanceOf(FormatException.class).hasMessageContaining("PT_DYNAMIC");

        byte[] smallEntries = sample();
        ByteBuffer.wrap(smallEntries).order(ByteOrder.LITTLE_ENDIAN).putShort(54, (short) 8);
        assertThatThrownBy(() -> ElfLinkInfo.read(write(smallEntries))).isInstanceOf(FormatException.class).hasMessageContaining("e_phentsize");
    }

    @Test
    void stringTableOutsideTheLoadSegmentsOrStringsOutsideTheTableAreRefused() throws IOException {
        byte[] b = sample();
        int dyn = dynamicOffset(b);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        // entry 0 is DT_NEEDED libfoo.so.1: point it past DT_STRSZ
        byte[] needed = b.clone();
        ByteBuffer.wrap(needed).order(ByteOrder.LITTLE_ENDIAN).putLong(dyn + 8, 1 << 20);
        assertThatThrownBy(() -> ElfLinkInfo.read(write(needed))).isInstanceOf(FormatException.class).hasMessageContaining("DT_NEEDED");
        // DT_STRTAB (after the 4 string entries) to an unmapped address
        int strtabEntry = dyn + 4 * 16;
        assertThat(bb.getLong(strtabEntry)).isEqualTo(5);
        byte[] unmapped = b.clone();
        ByteBuffer.wrap(unmapped).order(ByteOrder.LITTLE_ENDIAN).putLong(strtabEntry + 8, 0x10);
        assertThatThrownBy(() -> ElfLinkInfo.read(write(unmapped))).isInstanceOf(FormatException.class).hasMessageContaining("PT_LOAD");
        // DT_STRSZ so large that the table would run past the segment
        byte[] huge = b.clone();
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(strtabEntry + 16 + 8, 1 << 20);
        assertThatThrownBy(() -> ElfLinkInfo.read(write(huge))).isInstanceOf(FormatException.class);
        // no DT_NULL terminator
        byte[] unterminated = b.clone();
        ByteBuffer.wrap(unterminated).order(ByteOrder.LITTLE_ENDIAN).putLong(b.length - 16, 0x6ffffef5L);
        assertThatThrownBy(() -> ElfLinkInfo.read(write(unterminated))).isInstanceOf(FormatException.class).hasMessageContaining("DT_NULL");
        // interpreter without its NUL
        byte[] interp = b.clone();
        int at = (int) bb.getLong(TestElf.phdrOffset(0) + 8);
        int len = (int) bb.getLong(TestElf.phdrOffset(0) + 32);
        interp[at + len - 1] = 'x';
        assertThatThrownBy(() -> ElfLinkInfo.read(write(interp))).isInstanceOf(FormatException.class).hasMessageContaining("NUL");
    }

    @Test
    void randomCorruptionNeverEscapesAsAnythingButFormatException() throws IOException {
        byte[] full = sample();
        Random r = new Random(20261126);
        int parsed = 0;
        for (int round = 0; round < 1500; round++) {
            byte[] b = full.clone();
            for (int k = 0; k < 1 + r.nextInt(4); k++) {
                b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            }
            Path p = dir.resolve("fuzz");
            Files.write(p, b);
            try {
                ElfLinkInfo i = ElfLinkInfo.read(p);
                parsed++;
                assertThat(i.needed().size()).isLessThanOrEqualTo(b.length);
            } catch (FormatException expected) {
                // refused: fine
            }
        }
        assertThat(parsed).as("some corruptions hit bytes nobody reads").isPositive();
    }

    @Test
    void staticFileHasNoInterpreterAndNoLibraries() throws IOException {
        byte[] b = new TestElf().bytes();
        ElfLinkInfo i = ElfLinkInfo.read(write(b));
        assertThat(i.interpreter()).isEqualTo(Optional.empty());
        assertThat(i.needed()).isEqualTo(List.of());
    }

    static int dynamicOffset(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int phnum = bb.getShort(56);
        for (int i = 0; i < phnum; i++) {
            if (bb.getInt(TestElf.phdrOffset(i)) == 2) {
                return (int) bb.getLong(TestElf.phdrOffset(i) + 8);
            }
        }
        throw new AssertionError("no PT_DYNAMIC");
    }
}
