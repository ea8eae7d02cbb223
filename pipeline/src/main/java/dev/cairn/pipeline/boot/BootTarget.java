package dev.cairn.pipeline.boot;

import dev.cairn.pipeline.BuildManifest;
import dev.cairn.pipeline.PipelineException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * What {@link SecureBootMachine} boots: a disk image, or a UKI served to the firmware as the only file of an ESP
 * ({@code EFI/BOOT/BOOTX64.EFI}) plus data disks. {@link #resolve} turns {@code cairn boot}'s TARGET into one.
 *
 * @param kind       a disk image or a UKI
 * @param image      the disk image ({@link Kind#DISK_IMAGE}) or the UKI ({@link Kind#UKI})
 * @param dataDisks  read-only virtio disks after the boot disk, {@code /dev/vda} first (a UKI's {@code rootfs.img})
 * @param devVars    the image set's development variable store ({@value #DEV_VARS}), when the target belongs to a
 *                   set that has one; null otherwise
 */
public record BootTarget(Kind kind, Path image, List<Path> dataDisks, Path devVars) {
    /** A build output's disk image: GPT, the UKI as {@code /EFI/BOOT/BOOTX64.EFI} on its ESP. */
    public static final String DISK_IMAGE = "disk.raw";
    /** A build output's root filesystem (SquashFS and its dm-verity tree), the example's {@code /dev/vda}. */
    public static final String ROOTFS = "rootfs.img";
    /** Where a build output keeps the OVMF variable store with its development keys enrolled. */
    public static final String DEV_VARS = "dev-keys/secureboot/OVMF_VARS.fd";

    /** What the firmware starts. */
    public enum Kind {
        /** A raw disk image with an ESP: attached alone, the firmware finds the boot loader on it. */
        DISK_IMAGE,
        /** A UKI: placed on a generated ESP as the removable-media boot path. */
        UKI,
        /**
         * A directory holding a whole ESP (a boot loader as {@code EFI/BOOT/BOOTX64.EFI}, {@code loader/}, UKIs, add-ons),
         * copied and served to the firmware as a FAT drive; the directory itself is never written.
         */
        ESP_DIRECTORY
    }

    public BootTarget {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(image, "image");
        dataDisks = List.copyOf(dataDisks);
        if (kind == Kind.DISK_IMAGE && !dataDisks.isEmpty()) {
            throw new IllegalArgumentException("a disk image boots alone; attach other disks with BootRequest.Builder.disk");
        }
    }

    /** A disk image (a GPT disk with an ESP), booted alone. */
    public static BootTarget diskImage(Path disk) {
        return new BootTarget(Kind.DISK_IMAGE, disk, List.of(), null);
    }

    /** A UKI (or any EFI application), with {@code dataDisks} as read-only virtio disks ({@code /dev/vda} first). */
    public static BootTarget uki(Path efi, Path... dataDisks) {
        return new BootTarget(Kind.UKI, efi, Arrays.asList(dataDisks), null);
    }

    /** An ESP directory tree (e.g. systemd-boot, loader.conf, UKIs and add-ons), with {@code dataDisks} as read-only virtio disks. */
    public static BootTarget espDirectory(Path dir, Path... dataDisks) {
        return new BootTarget(Kind.ESP_DIRECTORY, dir, Arrays.asList(dataDisks), null);
    }

    /** The same target with {@code vars} as its development variable store. */
    public BootTarget withDevVars(Path vars) {
        return new BootTarget(kind, image, dataDisks, vars);
    }

    /**
     * {@code cairn boot}'s TARGET:
     * <ul>
     *   <li>a build's output directory holding {@value #DISK_IMAGE}: that disk image, alone;
     *   <li>a build's output directory without one: its UKI (the manifest's {@code uki} artifact, or else the one
     *       {@code *.efi} file in the directory) with its root filesystem (the manifest's {@code rootfs} artifact, else
     *       {@value #ROOTFS}, when present) as {@code /dev/vda};
     *   <li>a file: a UKI when it starts with {@code MZ} (a PE image), a disk image when it has a GPT header or an MBR
     *       boot signature; anything else is refused.
     * </ul>
     * The development variable store is {@code DIR/}{@value #DEV_VARS} for a directory, and the same path next to a
     * file, when it exists.
     *
     * @throws PipelineException ({@link PipelineException.Kind#BAD_INPUT}) when TARGET is none of these
     */
    public static BootTarget resolve(Path target) throws IOException {
        if (Files.isDirectory(target)) {
            return resolveDirectory(target);
        }
        if (!Files.isRegularFile(target)) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, target + ": no such file or directory");
        }
        Path dir = target.toAbsolutePath().getParent();
        Path vars = dir == null ? null : existing(dir.resolve(DEV_VARS));
        return switch (sniff(target)) {
            case UKI -> new BootTarget(Kind.UKI, target, List.of(), vars);
            case DISK_IMAGE -> new BootTarget(Kind.DISK_IMAGE, target, List.of(), vars);
            case ESP_DIRECTORY -> throw new IllegalStateException("a file is never sniffed as an ESP directory");
        };
    }

    private static BootTarget resolveDirectory(Path dir) throws IOException {
        Path vars = existing(dir.resolve(DEV_VARS));
        // the manifest's disk artifact (outputs.disk.file: disk.raw, disk.vhd or another name), else disk.raw
        Path disk = dir.resolve(DISK_IMAGE);
        if (Files.isRegularFile(dir.resolve(BuildManifest.FILE))) {
            Optional<BuildManifest.Artifact> d = BuildManifest.read(dir).artifact("disk");
            if (d.isPresent()) {
                disk = dir.resolve(d.get().path());
                if (!Files.isRegularFile(disk)) {
                    throw new PipelineException(PipelineException.Kind.BAD_INPUT, disk + ": no such file (the manifest's disk image)");
                }
            }
        }
        if (Files.isRegularFile(disk)) {
            return new BootTarget(Kind.DISK_IMAGE, disk, List.of(), vars);
        }
        Path uki = null;
        Path rootfs = null;
        if (Files.isRegularFile(dir.resolve(BuildManifest.FILE))) {
            BuildManifest m = BuildManifest.read(dir);
            uki = m.artifact("uki").map(a -> dir.resolve(a.path())).orElse(null);
            rootfs = m.artifact("rootfs").map(a -> dir.resolve(a.path())).orElse(null);
        }
        if (uki == null) {
            List<Path> efis;
            try (Stream<Path> s = Files.list(dir)) {
                efis = s.filter(p -> p.getFileName().toString().endsWith(".efi") && Files.isRegularFile(p)).sorted().toList();
            }
            if (efis.size() != 1) {
                throw new PipelineException(PipelineException.Kind.BAD_INPUT, dir + ": no " + DISK_IMAGE + " and "
                        + (efis.isEmpty() ? "no *.efi UKI" : efis.size() + " *.efi files (" + names(efis) + "); boot one of them")
                        + ": not a cairn build output");
            }
            uki = efis.get(0);
        }
        if (!Files.isRegularFile(uki)) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, uki + ": no such file (the manifest's UKI)");
        }
        if (rootfs == null && Files.isRegularFile(dir.resolve(ROOTFS))) {
            rootfs = dir.resolve(ROOTFS);
        }
        List<Path> disks = new ArrayList<>();
        if (rootfs != null) {
            if (!Files.isRegularFile(rootfs)) {
                throw new PipelineException(PipelineException.Kind.BAD_INPUT, rootfs + ": no such file (the manifest's root filesystem)");
            }
            disks.add(rootfs);
        }
        return new BootTarget(Kind.UKI, uki, disks, vars);
    }

    /** A UKI (PE: {@code MZ}) or a disk image (GPT header at LBA 1 of 512- or 4096-byte sectors, or an MBR signature). */
    static Kind sniff(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(4096 + 8);
        }
        if (head.length >= 2 && head[0] == 'M' && head[1] == 'Z') {
            return Kind.UKI;
        }
        boolean gpt = startsWith(head, 512, "EFI PART") || startsWith(head, 4096, "EFI PART");
        boolean mbr = head.length >= 512 && (head[510] & 0xff) == 0x55 && (head[511] & 0xff) == 0xaa;
        if (gpt || mbr) {
            return Kind.DISK_IMAGE;
        }
        throw new PipelineException(PipelineException.Kind.BAD_INPUT, file
                + ": neither a UKI (no MZ header) nor a disk image (no GPT header, no MBR boot signature)");
    }

    private static boolean startsWith(byte[] b, int at, String magic) {
        byte[] m = magic.getBytes(StandardCharsets.US_ASCII);
        return b.length >= at + m.length && Arrays.equals(b, at, at + m.length, m, 0, m.length);
    }

    private static Path existing(Path p) {
        return Files.isRegularFile(p) ? p : null;
    }

    private static String names(List<Path> files) {
        return String.join(", ", files.stream().map(p -> p.getFileName().toString()).toList());
    }

    /** One line for messages: what is booted and what is attached. */
    public String describe() {
        if (kind == Kind.DISK_IMAGE) {
            return "disk image " + image;
        }
        StringBuilder sb = new StringBuilder(kind == Kind.UKI ? "UKI " : "ESP directory ").append(image);
        char letter = 'a';
        for (Path d : dataDisks) {
            sb.append(", ").append(d).append(" as /dev/vd").append(letter++);
        }
        return sb.toString();
    }
}
