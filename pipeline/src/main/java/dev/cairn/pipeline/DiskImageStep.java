package dev.cairn.pipeline;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cairn.disk.DiskLayout;
import dev.cairn.disk.DiskResult;
import dev.cairn.disk.DpsType;
import dev.cairn.disk.Fat32Writer;
import dev.cairn.disk.PartitionSpec;
import dev.cairn.disk.RepartUuids;
import dev.cairn.disk.VhdFooter;
import dev.cairn.pipeline.disk.VerityPartitions;
import dev.cairn.pipeline.disk.WrittenPartition;
import dev.cairn.signing.KeyMaterial;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * The disk step of a build: the set as a Discoverable Disk Image, laid out as systemd-repart 252
 * would lay out the same partitions (docs/disk.md): an ESP (FAT32) holding the signed UKI as
 * {@code /EFI/BOOT/BOOTX64.EFI} and {@code /EFI/Linux/NAME_VERSION.efi}; the root partition (the
 * SquashFS), its root-verity partition (superblock and hash tree) and root-verity-sig partition
 * (systemd's JSON with the root-hash signature), all three read-only and named by the DPS types of
 * the kernel's architecture, the first two with the UUIDs the root hash implies; with two slots a
 * second, empty root/verity/sig set labelled {@code _empty} for A/B updates. The disk GUID and the
 * other partitions' UUIDs come from a seed as repart derives them. The disk is written once,
 * streaming the partitions' contents from the set's own artifacts.
 */
final class DiskImageStep {
    static final long MIN_ESP = 64L << 20;
    static final long MIB = 1L << 20;

    private DiskImageStep() {
    }

    /** The seed the spec gives, else one derived from the image name and version (a v4 UUID). */
    static UUID seed(BuildSpec spec) {
        BuildSpec.Disk d = spec.outputs().disk();
        if (d.seed() != null) {
            return d.seed();
        }
        return VerityPartitions.seed("cairn disk seed", spec.image().name(), spec.image().version());
    }

    /** The ESP size: the spec's, else room for two copies of the UKI and FAT's tables, at least 64 MiB. */
    static long espSize(BuildSpec.Disk d, long ukiSize) {
        return espSize(d, ukiSize, 0);
    }

    /**
     * The ESP size: the spec's, else room for two copies of the UKI, the extension images
     * ({@code extraSize} bytes in all) and FAT's tables, at least 64 MiB.
     */
    static long espSize(BuildSpec.Disk d, long ukiSize, long extraSize) {
        if (d.espSize() > 0) {
            return d.espSize();
        }
        long content = 2 * ukiSize + extraSize;
        long need = content + content / 32 + 4 * MIB;
        return Math.max(MIN_ESP, (need + MIB - 1) / MIB * MIB);
    }

    static ObjectNode build(BuildSpec spec, Path staging, Path rootfs, long hashOffset, String rootHashHex, Path uki,
                            KeyMaterial verityKey, byte[] rootHashSignature, DpsType.Arch arch, long sde,
                            List<ExtensionStep.EspFile> extensions) throws IOException {
        BuildSpec.Disk d = spec.outputs().disk();
        UUID seed = seed(spec);
        byte[] rootHash = HexFormat.of().parseHex(rootHashHex);
        long rootfsSize = Files.size(rootfs);
        long hashSize = rootfsSize - hashOffset;
        String efiName = spec.image().name() + "_" + spec.image().version() + ".efi";
        String bootName = arch == DpsType.Arch.ARM64 ? "BOOTAA64.EFI" : "BOOTX64.EFI";
        Path esp = staging.resolve(".esp.img");
        Path sig = staging.resolve(".verity-sig.img");
        try {
            UUID espUuid = RepartUuids.partitionUuid(seed, DpsType.ESP.uuid(), 0);
            long extraSize = 0;
            for (ExtensionStep.EspFile x : extensions) {
                extraSize = Math.addExact(extraSize, Files.size(x.file()));
            }
            long espSize = espSize(d, Files.size(uki), extraSize);
            String extraDir = "EFI/BOOT/" + bootName + ExtensionStep.ESP_DIR_SUFFIX;
            try (Fat32Writer fat = new Fat32Writer(espSize, RepartUuids.fatVolumeId(espUuid), "ESP", sde);
                 FileChannel ch = FileChannel.open(esp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
                fat.addDirectory("EFI");
                fat.addDirectory("EFI/BOOT");
                fat.addDirectory("EFI/Linux");
                fat.addFile("EFI/BOOT/" + bootName, uki);
                fat.addFile("EFI/Linux/" + efiName, uki);
                if (!extensions.isEmpty()) {
                    // systemd-stub's add-on directory of the UKI the firmware boots: it passes *.raw to the initrd as /.extra/sysext/
                    fat.addDirectory(extraDir);
                    for (ExtensionStep.EspFile x : extensions) {
                        fat.addFile(extraDir + "/" + x.name(), x.file());
                    }
                }
                try {
                    fat.finish(ch);
                } catch (IllegalArgumentException | IllegalStateException e) {
                    throw new PipelineException(PipelineException.Kind.BAD_INPUT, "outputs.disk: the ESP (" + espSize + " bytes) cannot hold "
                            + "the UKI twice" + (extensions.isEmpty() ? "" : " and the extensions (" + extraSize + " bytes)") + ": "
                            + e.getMessage() + (d.espSize() > 0 ? "; raise outputs.disk.espSize or leave it out" : ""));
                }
            }
            Files.write(sig, VerityPartitions.signatureContent(rootHashHex, rootHashSignature, verityKey));

            DpsType root = DpsType.of(DpsType.Role.ROOT, arch);
            DpsType verity = DpsType.of(DpsType.Role.ROOT_VERITY, arch);
            DpsType rootSig = DpsType.of(DpsType.Role.ROOT_VERITY_SIG, arch);
            long ro = DpsType.READ_ONLY;
            List<PartitionSpec> parts = new ArrayList<>();
            parts.add(PartitionSpec.of(DpsType.ESP, espUuid, 0, espSize, esp));
            // A/B: slot A's labels carry the version (NAME_VERSION, _verity, _verity_sig) for systemd-sysupdate's MatchPattern=
            List<PartitionSpec> slotA = VerityPartitions.specs(arch, rootfs, rootfsSize, hashOffset, rootHash, seed, sig,
                    d.slots() == 2 ? slotLabel(spec) : null, d.rootSize(), d.veritySize());
            parts.addAll(slotA);
            if (d.slots() == 2) {
                // slot B: the same types and sizes, empty, labelled _empty as systemd-sysupdate expects to find them
                // no-auto as well: nothing may pick an empty slot (systemd-dissect 252 ranks "_empty" above some versioned
                // labels); a systemd-sysupdate transfer that fills the slot sets its flags (NoAuto=no)
                for (PartitionSpec a : slotA) {
                    parts.add(new PartitionSpec(a.type(), RepartUuids.partitionUuid(seed, a.type(), 1), "_empty", ro | DpsType.NO_AUTO,
                            a.size(), null));
                }
            }
            DiskLayout layout = DiskLayout.plan(RepartUuids.diskUuid(seed), parts, 0);
            if (d.format() == BuildSpec.Disk.Format.VHD) {
                layout = layout.withSizeRoundedTo(MIB);
            }
            Path file = staging.resolve(d.file());
            DiskResult written;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
                written = dev.cairn.disk.GptWriter.write(layout, ch);
                if (d.format() == BuildSpec.Disk.Format.VHD) {
                    UUID unique = RepartUuids.partitionUuid(seed, VHD_ID, 0);
                    ch.write(ByteBuffer.wrap(VhdFooter.fixed(layout.totalSize(), unique, sde)), layout.totalSize());
                }
            }
            ObjectNode n = ManifestJson.object();
            n.put("file", d.file());
            n.put("format", d.format().name().toLowerCase(Locale.ROOT));
            n.put("slots", d.slots());
            n.put("size", Files.size(file));
            n.put("rawSize", layout.totalSize());
            n.put("diskGuid", layout.diskGuid().toString());
            n.put("seed", seed.toString());
            n.put("architecture", arch.systemdName());
            ArrayNode ps = n.putArray("partitions");
            for (WrittenPartition p : WrittenPartition.of(layout, written)) {
                ObjectNode e = ps.addObject();
                e.put("number", p.number());
                e.put("designator", p.designator());
                e.put("type", p.type().toString());
                e.put("uuid", p.uuid().toString());
                e.put("label", p.label());
                e.put("attributes", p.attributesHex());
                e.put("offset", p.offset());
                e.put("size", p.size());
                e.put("sha256", p.sha256());
            }
            ObjectNode espNode = n.putObject("esp");
            espNode.put("volumeId", String.format(Locale.ROOT, "%08X", RepartUuids.fatVolumeId(espUuid)));
            espNode.putArray("files").add("/EFI/BOOT/" + bootName).add("/EFI/Linux/" + efiName);
            if (!extensions.isEmpty()) {
                ArrayNode xs = espNode.putArray("extensions");
                for (ExtensionStep.EspFile x : extensions) {
                    ObjectNode e = xs.addObject();
                    e.put("path", "/" + extraDir + "/" + x.name());
                    e.put("extension", x.name().substring(0, x.name().length() - dev.cairn.pipeline.sysext.ExtensionRelease.SUFFIX.length()));
                    e.put("sha256", StepCache.digest(x.file()));
                }
            }
            return n;
        } finally {
            Files.deleteIfExists(esp);
            Files.deleteIfExists(sig);
        }
    }

    /** Slot A's label with two slots: NAME_VERSION (the spec checks that it and its suffixes fit in a GPT name). */
    static String slotLabel(BuildSpec spec) {
        return spec.image().name() + "_" + spec.image().version();
    }

    /** The "type" under which the VHD footer's unique id is derived from the seed (not a partition type). */
    static final UUID VHD_ID = UUID.nameUUIDFromBytes("cairn vhd unique id".getBytes(StandardCharsets.US_ASCII));
}
