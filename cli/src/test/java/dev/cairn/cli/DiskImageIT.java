package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.testing.ExampleSpec;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * {@code outputs.disk} of the bundled example ({@link ExampleSpec}: {@code disk: {}}), built once in
 * process and judged by tools no one here wrote: sfdisk and sgdisk read the GPT, systemd-dissect 252
 * recognises the DDI and matches {@code --root-hash}, fsck.fat and mcopy read the ESP, openssl
 * verifies the root-hash signature in the verity-sig partition, veritysetup verifies the root
 * partition against the root-verity partition, systemd-repart 252 given the same partition contents
 * ({@code CopyBlocks=}), UUIDs, labels, flags, sizes and seed writes the same disk byte for byte, and
 * qemu-img reads the fixed VHD. Plus builds with {@code format: vhd} and {@code slots: 2} (the
 * spec's text edited), a second build for reproducibility, {@code cairn disk inspect}, and
 * {@code cairn disk assemble} against repart given only {@code Type=} and {@code CopyBlocks=}.
 * Every expected type GUID below is the DPS specification's, not cairn's table.
 */
class DiskImageIT {
    static final String ESP_TYPE = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
    static final String ROOT_TYPE = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709";
    static final String VERITY_TYPE = "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5";
    static final String SIG_TYPE = "41092b05-9fc8-4523-994f-2def0408b176";
    static final long READ_ONLY = 1L << 60;

    @TempDir
    static Path dir;
    static Path example;
    static Path spec;
    static Path keys;
    static Path out;
    static Path disk;
    /** The manifest's {@code disk} section. */
    static JsonNode manifest;
    static String rootHash;

    @BeforeAll
    static void build() throws IOException {
        example = Files.createDirectories(dir.resolve("example"));
        spec = ExampleSpec.write(ExampleSpec.examplesDir(), example);
        keys = example.resolve("keys");
        out = build(spec, "out");
        manifest = new ObjectMapper().readTree(out.resolve("manifest.json").toFile()).path("disk");
        disk = out.resolve(manifest.path("file").asText());
        rootHash = Files.readString(out.resolve("rootfs.roothash")).trim();
        assertThat(rootHash).matches("[0-9a-f]{64}");
        assertThat(manifest.path("format").asText()).isEqualTo("raw");
        assertThat(Files.size(disk)).isEqualTo(manifest.path("size").asLong()).isEqualTo(manifest.path("rawSize").asLong());
    }

    static Path build(Path spec, String name) {
        Path o = dir.resolve(name);
        MainTest.Run r = run("build", spec.toString(), "--out", o.toString(), "--quiet");
        assertThat(r.code()).as(r.err()).isZero();
        return o;
    }

    /** The example's spec with {@code outputs.disk: {}} replaced, beside the original (its paths are relative). */
    static Path variant(String name, String disk) throws IOException {
        String text = Files.readString(spec);
        assertThat(text).contains("  disk: {}\n");
        Path p = example.resolve(name + ".yaml");
        Files.writeString(p, text.replace("  disk: {}\n", "  disk: " + disk + "\n"));
        return p;
    }

    static JsonNode diskSection(Path out) throws IOException {
        return new ObjectMapper().readTree(out.resolve("manifest.json").toFile()).path("disk");
    }

    static List<JsonNode> partitions(JsonNode diskSection) {
        List<JsonNode> l = new ArrayList<>();
        diskSection.path("partitions").forEach(l::add);
        return l;
    }

    static JsonNode partition(JsonNode diskSection, String designator) {
        return partitions(diskSection).stream().filter(p -> p.path("designator").asText().equals(designator))
                .filter(p -> !p.path("label").asText().equals("_empty")).findFirst()
                .orElseThrow(() -> new AssertionFailedError("no " + designator + " partition in the manifest: " + diskSection));
    }

    static long attributes(JsonNode p) {
        return Long.parseUnsignedLong(p.path("attributes").asText().substring(2), 16);
    }

    /** The root hash's first or second 16 bytes as a UUID (DPS: "the first 128 bits of the root hash"). */
    static String hashHalf(String hex, int half) {
        String h = hex.substring(32 * half, 32 * half + 32);
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20) + "-" + h.substring(20);
    }

    static String otherHash(String hex) {
        char c = hex.charAt(10);
        return hex.substring(0, 10) + (c == '0' ? '1' : '0') + hex.substring(11);
    }

    static Path extract(Path image, long offset, long size, Path to) throws IOException {
        try (FileChannel in = FileChannel.open(image); FileChannel o = FileChannel.open(to, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            long done = 0;
            while (done < size) {
                long n = in.transferTo(offset + done, size - done, o);
                if (n <= 0) {
                    throw new IOException(image + " ends before " + (offset + size));
                }
                done += n;
            }
        }
        return to;
    }

    static Path extract(Path image, JsonNode partition, Path to) throws IOException {
        return extract(image, partition.path("offset").asLong(), partition.path("size").asLong(), to);
    }

    static Path work(String name) throws IOException {
        return Files.createDirectories(dir.resolve("work-" + name));
    }

    static boolean allZero(Path f) throws IOException {
        byte[] b = Files.readAllBytes(f);
        return Arrays.equals(b, new byte[b.length]);
    }

    // ---------------------------------------------------------------------------------------------- GPT

    @Test
    void sfdiskReadsTheManifestsPartitionTable() throws IOException {
        ToolOracle sfdisk = ToolOracle.require("sfdisk", "fdisk");
        JsonNode t = new ObjectMapper().readTree(sfdisk.runOk("--json", disk.toString()).stdout()).path("partitiontable");
        assertThat(t.path("label").asText()).isEqualTo("gpt");
        assertThat(t.path("id").asText()).isEqualTo(manifest.path("diskGuid").asText().toUpperCase(Locale.ROOT));
        assertThat(t.path("firstlba").asLong()).isEqualTo(2048);
        assertThat(t.path("sectorsize").asInt()).isEqualTo(512);
        assertThat(t.path("lastlba").asLong()).as("total - 34 sectors").isEqualTo(Files.size(disk) / 512 - 34);
        List<JsonNode> expected = partitions(manifest);
        JsonNode ps = t.path("partitions");
        assertThat(ps.size()).isEqualTo(expected.size()).isEqualTo(4);
        Map<String, String> types = Map.of("esp", ESP_TYPE, "root-x86-64", ROOT_TYPE, "root-x86-64-verity", VERITY_TYPE,
                "root-x86-64-verity-sig", SIG_TYPE);
        for (int i = 0; i < ps.size(); i++) {
            JsonNode j = ps.get(i);
            JsonNode m = expected.get(i);
            String what = "partition " + (i + 1) + " " + m.path("designator").asText();
            assertThat(j.path("node").asText()).as(what).endsWith(Integer.toString(m.path("number").asInt()));
            assertThat(j.path("start").asLong() * 512).as(what + " start").isEqualTo(m.path("offset").asLong());
            assertThat(j.path("size").asLong() * 512).as(what + " size").isEqualTo(m.path("size").asLong());
            assertThat(j.path("type").asText()).as(what + " type").isEqualTo(m.path("type").asText().toUpperCase(Locale.ROOT))
                    .isEqualTo(types.get(m.path("designator").asText()).toUpperCase(Locale.ROOT));
            assertThat(j.path("uuid").asText()).as(what + " uuid").isEqualTo(m.path("uuid").asText().toUpperCase(Locale.ROOT));
            assertThat(j.path("name").asText()).as(what + " name").isEqualTo(m.path("label").asText());
            boolean esp = m.path("designator").asText().equals("esp");
            assertThat(attributes(m)).as(what + " manifest attributes").isEqualTo(esp ? 0 : READ_ONLY);
            assertThat(j.path("attrs").asText("")).as(what + " attrs").isEqualTo(esp ? "" : "GUID:60");
        }
        assertThat(expected.stream().map(p -> p.path("designator").asText()))
                .containsExactly("esp", "root-x86-64", "root-x86-64-verity", "root-x86-64-verity-sig");
        assertThat(partition(manifest, "root-x86-64").path("uuid").asText()).isEqualTo(hashHalf(rootHash, 0));
        assertThat(partition(manifest, "root-x86-64-verity").path("uuid").asText()).isEqualTo(hashHalf(rootHash, 1));
    }

    @Test
    void sgdiskFindsNoProblems() {
        ToolOracle sgdisk = ToolOracle.require("sgdisk", "gdisk");
        assertThat(sgdisk.runOk("-v", disk.toString()).stdout()).contains("No problems found");
    }

    // ---------------------------------------------------------------------------------------------- systemd-dissect

    static Map<String, JsonNode> dissect(ToolOracle tool, Path image) throws IOException {
        JsonNode j = new ObjectMapper().readTree(tool.runOk("--json=short", image.toString()).stdout());
        Map<String, JsonNode> m = new HashMap<>();
        j.path("mounts").forEach(p -> m.put(p.path("designator").asText(), p));
        return m;
    }

    @Test
    void systemdDissectRecognisesTheSignedSetAndItsRootHash() throws IOException {
        ToolOracle dissect = ToolOracle.require("systemd-dissect", "systemd-container");
        Map<String, JsonNode> m = dissect(dissect, disk);
        assertThat(m).containsKeys("esp", "root", "root-verity", "root-verity-sig");
        assertThat(m.get("root").path("verity").asText()).isEqualTo("signed");
        assertThat(m.get("root").path("fstype").asText()).isEqualTo("squashfs");
        assertThat(m.get("root").path("architecture").asText()).isEqualTo("x86-64");
        assertThat(m.get("root").path("rw").asText()).isEqualTo("ro");
        assertThat(m.get("esp").path("fstype").asText()).isEqualTo("vfat");
        assertThat(m.get("root-verity").path("fstype").asText()).isEqualTo("DM_verity_hash");
        for (String d : List.of("esp", "root", "root-verity", "root-verity-sig")) {
            String designator = d.equals("esp") ? "esp" : "root-x86-64" + d.substring(4);
            assertThat(m.get(d).path("partition_uuid").asText()).as(d).isEqualTo(partition(manifest, designator).path("uuid").asText());
        }

        dissect.runOk("--root-hash=" + rootHash, disk.toString());
        ToolOracle.Result wrong = dissect.run(Duration.ofMinutes(2), "--root-hash=" + otherHash(rootHash), disk.toString());
        assertThat(wrong.exitCode()).as(wrong.stderr()).isNotZero();
        assertThat(wrong.stderr()).contains("No root partition for specified root hash found");
    }

    // ---------------------------------------------------------------------------------------------- ESP

    @Test
    void espIsACleanFatHoldingTheUkiTwice() throws IOException {
        ToolOracle fsck = ToolOracle.require("fsck.fat", "dosfstools");
        ToolOracle mcopy = ToolOracle.require("mcopy", "mtools");
        Path w = work("esp");
        Path esp = extract(disk, partition(manifest, "esp"), w.resolve("esp.img"));
        ToolOracle.Result f = fsck.runOk("-n", esp.toString());
        assertThat(f.stdout() + f.stderr()).doesNotContain("differ", "Free cluster summary wrong");
        List<String> files = new ArrayList<>();
        manifest.path("esp").path("files").forEach(n -> files.add(n.asText()));
        assertThat(files).containsExactly("/EFI/BOOT/BOOTX64.EFI", "/EFI/Linux/cairn-example_1.0.0.efi");
        byte[] uki = Files.readAllBytes(out.resolve("cairn-example.efi"));
        for (int i = 0; i < files.size(); i++) {
            Path copy = w.resolve("copy" + i + ".efi");
            mcopy.runOk("-n", "-i", esp.toString(), "::" + files.get(i), copy.toString());
            assertThat(Files.readAllBytes(copy)).as(files.get(i)).isEqualTo(uki);
        }
    }

    // ---------------------------------------------------------------------------------------------- signature

    @Test
    void signaturePartitionIsSystemdsJsonAndVerifiesWithOpenssl() throws IOException {
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        Path w = work("sig");
        JsonNode sigPart = partition(manifest, "root-x86-64-verity-sig");
        assertThat(sigPart.path("size").asLong()).isEqualTo(16384);
        byte[] b = Files.readAllBytes(extract(disk, sigPart, w.resolve("sig.part")));
        int end = 0;
        while (end < b.length && b[end] != 0) {
            end++;
        }
        assertThat(end).as("JSON length").isBetween(2, 4096);
        assertThat(Arrays.copyOfRange(b, end, b.length)).as("after the JSON: NUL padding").isEqualTo(new byte[b.length - end]);
        String text = new String(b, 0, end, StandardCharsets.US_ASCII);
        assertThat(text).as("compact JSON in repart's key order").matches(
                "\\{\"rootHash\":\"[0-9a-f]{64}\",\"certificateFingerprint\":\"[0-9a-f]{64}\",\"signature\":\"[A-Za-z0-9+/=]+\"\\}");
        JsonNode j = new ObjectMapper().readTree(text);
        assertThat(j.path("rootHash").asText()).isEqualTo(rootHash);

        String fp = openssl.runOk("x509", "-in", keys.resolve("db.crt").toString(), "-noout", "-fingerprint", "-sha256").stdout();
        assertThat(j.path("certificateFingerprint").asText())
                .isEqualTo(fp.substring(fp.indexOf('=') + 1).trim().replace(":", "").toLowerCase(Locale.ROOT));

        Path der = Files.write(w.resolve("sig.der"), Base64.getDecoder().decode(j.path("signature").asText()));
        Path content = Files.writeString(w.resolve("roothash.txt"), rootHash);
        Path other = Files.writeString(w.resolve("other.txt"), otherHash(rootHash));
        String ca = keys.resolve("db.crt").toString();
        openssl.runOk("smime", "-verify", "-binary", "-inform", "DER", "-in", der.toString(), "-content", content.toString(),
                "-CAfile", ca, "-purpose", "any", "-out", w.resolve("verified.txt").toString());
        assertThat(w.resolve("verified.txt")).hasContent(rootHash);
        ToolOracle.Result bad = openssl.run(Duration.ofMinutes(1), "smime", "-verify", "-binary", "-inform", "DER", "-in", der.toString(),
                "-content", other.toString(), "-CAfile", ca, "-purpose", "any", "-out", w.resolve("bad.txt").toString());
        assertThat(bad.exitCode()).as("over another root hash: " + bad.stderr()).isNotZero();
        assertThat(bad.stderr()).contains("Verification failure");
        ToolOracle.Result wrongCa = openssl.run(Duration.ofMinutes(1), "smime", "-verify", "-binary", "-inform", "DER", "-in",
                der.toString(), "-content", content.toString(), "-CAfile", keys.resolve("ca.crt").toString(), "-purpose", "any",
                "-out", w.resolve("bad2.txt").toString());
        assertThat(wrongCa.exitCode()).as("with another certificate: " + wrongCa.stderr()).isNotZero();
    }

    // ---------------------------------------------------------------------------------------------- verity

    @Test
    void veritysetupVerifiesTheRootPartitionAgainstTheVerityPartition() throws IOException {
        ToolOracle veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin");
        Path w = work("verity");
        Path root = extract(disk, partition(manifest, "root-x86-64"), w.resolve("root.part"));
        Path verity = extract(disk, partition(manifest, "root-x86-64-verity"), w.resolve("verity.part"));
        veritysetup.runOk("verify", root.toString(), verity.toString(), rootHash);
        ToolOracle.Result wrong = veritysetup.run(Duration.ofMinutes(1), "verify", root.toString(), verity.toString(), otherHash(rootHash));
        assertThat(wrong.exitCode()).as("another root hash").isNotZero();
        try (RandomAccessFile f = new RandomAccessFile(root.toFile(), "rw")) {
            f.seek(100);
            int x = f.read();
            f.seek(100);
            f.write(x ^ 0x20);
        }
        ToolOracle.Result flipped = veritysetup.run(Duration.ofMinutes(1), "verify", root.toString(), verity.toString(), rootHash);
        assertThat(flipped.exitCode()).as("a flipped data byte").isNotZero();
    }

    // ---------------------------------------------------------------------------------------------- repart

    /**
     * systemd-repart 252 writes a disk of the manifest's partitions: one definition per partition in
     * partition order ({@code NN-part.conf}: repart numbers them in file-name order), {@code CopyBlocks=}
     * that partition's bytes extracted from our disk (none for an empty one), {@code Label=},
     * {@code Flags=} with explicit {@code ReadOnly=/NoAuto=/GrowFileSystem=} (repart would otherwise
     * add its defaults), {@code SizeMinBytes=SizeMaxBytes=}, {@code UUID=} where {@code explicitUuid}
     * says so — otherwise repart derives the UUID from {@code --seed} itself.
     */
    static Path repart(Path image, JsonNode diskSection, String name, String size, Predicate<JsonNode> explicitUuid) throws IOException {
        ToolOracle repart = ToolOracle.require("systemd-repart", "systemd");
        Path w = work("repart-" + name);
        Path defs = Files.createDirectories(w.resolve("repart.d"));
        for (JsonNode p : partitions(diskSection)) {
            int n = p.path("number").asInt();
            Path content = extract(image, p, w.resolve("part" + n + ".img"));
            long attrs = attributes(p);
            StringBuilder sb = new StringBuilder("[Partition]\n");
            sb.append("Type=").append(p.path("designator").asText()).append('\n');
            if (explicitUuid.test(p)) {
                sb.append("UUID=").append(p.path("uuid").asText()).append('\n');
            }
            sb.append("Label=").append(p.path("label").asText()).append('\n');
            sb.append(String.format(Locale.ROOT, "Flags=0x%016x%n", attrs));
            sb.append("ReadOnly=").append((attrs & READ_ONLY) != 0 ? "yes" : "no").append('\n');
            sb.append("NoAuto=").append((attrs & (1L << 63)) != 0 ? "yes" : "no").append('\n');
            sb.append("GrowFileSystem=").append((attrs & (1L << 59)) != 0 ? "yes" : "no").append('\n');
            if (!allZero(content)) {
                sb.append("CopyBlocks=").append(content.toAbsolutePath()).append('\n');
            }
            sb.append("SizeMinBytes=").append(p.path("size").asLong()).append('\n');
            sb.append("SizeMaxBytes=").append(p.path("size").asLong()).append('\n');
            Files.writeString(defs.resolve(String.format(Locale.ROOT, "%02d-part.conf", n)), sb.toString());
        }
        Path img = w.resolve("repart.raw");
        repart.runOk("--empty=create", "--size=" + size, "--seed=" + diskSection.path("seed").asText(), "--dry-run=no", "--no-pager",
                "--definitions=" + defs.toAbsolutePath(), img.toAbsolutePath().toString());
        return img;
    }

    /** Byte for byte, naming where the first difference lies (which structure or partition, which byte). */
    static void assertSameDisk(Path theirs, Path ours, JsonNode diskSection, long rawSize) throws IOException {
        assertThat(Files.size(theirs)).as("repart's disk size vs cairn's").isEqualTo(rawSize);
        try (FileChannel a = FileChannel.open(theirs); FileChannel b = FileChannel.open(ours)) {
            java.nio.ByteBuffer x = java.nio.ByteBuffer.allocate(1 << 20);
            java.nio.ByteBuffer y = java.nio.ByteBuffer.allocate(1 << 20);
            for (long pos = 0; pos < rawSize; ) {
                x.clear().limit((int) Math.min(x.capacity(), rawSize - pos));
                y.clear().limit(x.limit());
                while (x.hasRemaining() && a.read(x, pos + x.position()) >= 0) {
                    // fill
                }
                while (y.hasRemaining() && b.read(y, pos + y.position()) >= 0) {
                    // fill
                }
                int m = Arrays.mismatch(x.array(), 0, x.limit(), y.array(), 0, y.limit());
                if (m >= 0) {
                    long at = pos + m;
                    throw new AssertionFailedError(String.format(Locale.ROOT,
                            "systemd-repart 252 and cairn differ at byte %d (%s): repart 0x%02x, cairn 0x%02x", at,
                            region(at, diskSection, rawSize), x.get(m) & 0xff, y.get(m) & 0xff));
                }
                pos += x.limit();
            }
        }
    }

    static String region(long at, JsonNode diskSection, long rawSize) {
        long lba = at / 512;
        long sectors = rawSize / 512;
        if (lba == 0) {
            return "protective MBR, byte " + at;
        }
        if (lba == 1) {
            return "primary GPT header, " + field(HEADER_FIELDS, at - 512);
        }
        if (lba < 34) {
            return "primary entry " + ((at - 1024) / 128 + 1) + ", " + field(ENTRY_FIELDS, (at - 1024) % 128);
        }
        if (lba == sectors - 1) {
            return "backup GPT header, " + field(HEADER_FIELDS, at % 512);
        }
        if (lba >= sectors - 33) {
            long e = at - (sectors - 33) * 512;
            return "backup entry " + (e / 128 + 1) + ", " + field(ENTRY_FIELDS, e % 128);
        }
        for (JsonNode p : partitions(diskSection)) {
            long off = p.path("offset").asLong();
            if (at >= off && at < off + p.path("size").asLong()) {
                return "partition " + p.path("number").asInt() + " (" + p.path("designator").asText() + "), byte " + (at - off);
            }
        }
        return "gap outside every partition";
    }

    /** UEFI 2.10 §5.3.2 and §5.3.3: field offsets and names of the GPT header and of a partition entry. */
    static final Object[][] HEADER_FIELDS = {{0, "Signature"}, {8, "Revision"}, {12, "HeaderSize"}, {16, "HeaderCRC32"},
        {20, "Reserved"}, {24, "MyLBA"}, {32, "AlternateLBA"}, {40, "FirstUsableLBA"}, {48, "LastUsableLBA"}, {56, "DiskGUID"},
        {72, "PartitionEntryLBA"}, {80, "NumberOfPartitionEntries"}, {84, "SizeOfPartitionEntry"}, {88, "PartitionEntryArrayCRC32"},
        {92, "reserved rest of the sector"}};
    static final Object[][] ENTRY_FIELDS = {{0, "PartitionTypeGUID"}, {16, "UniquePartitionGUID"}, {32, "StartingLBA"},
        {40, "EndingLBA"}, {48, "Attributes"}, {56, "PartitionName"}};

    static String field(Object[][] fields, long off) {
        Object[] f = fields[0];
        for (Object[] x : fields) {
            if ((int) x[0] <= off) {
                f = x;
            }
        }
        return "byte " + off + " = " + f[1] + "+" + (off - (int) f[0]);
    }

    static boolean isVerityPair(JsonNode p) {
        String d = p.path("designator").asText();
        return !p.path("label").asText().equals("_empty") && (d.equals("root-x86-64") || d.equals("root-x86-64-verity"));
    }

    @Test
    void systemdRepartWritesTheSameDiskGivenEveryUuid() throws IOException {
        Path theirs = repart(disk, manifest, "uuids", "auto", p -> true);
        assertSameDisk(theirs, disk, manifest, manifest.path("rawSize").asLong());
    }

    @Test
    void systemdRepartDerivesTheSameDiskGuidAndUuidsFromTheSeed() throws IOException {
        // UUID= only for root and root-verity (root-hash halves, which repart 252 derives only with Verity=):
        // the disk GUID and the ESP's and signature partition's UUIDs are repart's own, from --seed
        Path theirs = repart(disk, manifest, "seeded", "auto", DiskImageIT::isVerityPair);
        assertSameDisk(theirs, disk, manifest, manifest.path("rawSize").asLong());
    }

    // ---------------------------------------------------------------------------------------------- VHD

    @Test
    void vhdIsTheRawDiskRoundedToAMebibyteWithAFooterQemuReads() throws IOException {
        ToolOracle qemuImg = ToolOracle.require("qemu-img", "qemu-utils");
        Path vhdOut = build(variant("image-vhd", "{format: vhd}"), "out-vhd");
        JsonNode d = diskSection(vhdOut);
        Path vhd = vhdOut.resolve(d.path("file").asText());
        assertThat(vhd.getFileName().toString()).isEqualTo("disk.vhd");
        long raw = d.path("rawSize").asLong();
        assertThat(raw % (1 << 20)).as("raw size a multiple of 1 MiB").isZero();
        assertThat(raw).isGreaterThanOrEqualTo(manifest.path("rawSize").asLong());
        assertThat(Files.size(vhd)).isEqualTo(raw + 512).isEqualTo(d.path("size").asLong());

        JsonNode info = new ObjectMapper().readTree(qemuImg.runOk("info", "-f", "vpc", "--output=json", vhd.toString()).stdout());
        assertThat(info.path("format").asText()).isEqualTo("vpc");
        assertThat(info.path("virtual-size").asLong()).isEqualTo(raw);

        // the same build's raw disk: the VHD without its footer
        Path stripped = extract(vhd, 0, raw, work("vhd").resolve("stripped.raw"));
        ToolOracle.Result cmp = qemuImg.runOk("compare", "-f", "vpc", "-F", "raw", vhd.toString(), stripped.toString());
        assertThat(cmp.stdout()).contains("Images are identical");
        // ... is what repart 252 writes for --size=<that size> (backup GPT at the rounded end)
        assertSameDisk(repart(stripped, d, "vhd", Long.toString(raw), DiskImageIT::isVerityPair), stripped, d, raw);
        // ... and holds the very partitions of the raw build, at the same offsets
        List<JsonNode> a = partitions(manifest);
        List<JsonNode> b = partitions(d);
        assertThat(b).hasSameSizeAs(a);
        for (int i = 0; i < a.size(); i++) {
            for (String field : List.of("offset", "size", "uuid", "type", "label", "attributes", "sha256")) {
                assertThat(b.get(i).path(field)).as("partition " + (i + 1) + " " + field).isEqualTo(a.get(i).path(field));
            }
        }
        assertThat(d.path("diskGuid")).isEqualTo(manifest.path("diskGuid"));
        MainTest.Run inspect = run("disk", "inspect", vhd.toString(), "--cert", keys.resolve("db.crt").toString());
        assertThat(inspect.code()).as(inspect.out() + inspect.err()).isZero();
        assertThat(inspect.out()).contains("vhd disk, " + raw + " bytes");
    }

    // ---------------------------------------------------------------------------------------------- A/B

    @Test
    void twoSlotsAddAnEmptyBSetThatToolsAccept() throws IOException {
        Path abOut = build(variant("image-ab", "{slots: 2}"), "out-ab");
        JsonNode d = diskSection(abOut);
        Path ab = abOut.resolve(d.path("file").asText());
        List<JsonNode> ps = partitions(d);
        assertThat(ps).hasSize(7);
        Path w = work("ab");
        for (int i = 0; i < 3; i++) {
            JsonNode a = ps.get(1 + i);
            JsonNode b = ps.get(4 + i);
            String what = "slot B of " + a.path("designator").asText();
            assertThat(b.path("label").asText()).as(what).isEqualTo("_empty");
            assertThat(a.path("label").asText()).as(what).isNotEqualTo("_empty");
            assertThat(b.path("type")).as(what).isEqualTo(a.path("type"));
            assertThat(b.path("size")).as(what).isEqualTo(a.path("size"));
            // slot B: A's flags and no-auto (bit 63), so that nothing picks the empty slot
            assertThat(Long.parseUnsignedLong(b.path("attributes").asText().substring(2), 16)).as(what)
                    .isEqualTo(Long.parseUnsignedLong(a.path("attributes").asText().substring(2), 16) | (1L << 63));
            assertThat(b.path("uuid")).as(what).isNotEqualTo(a.path("uuid"));
            assertThat(allZero(extract(ab, b, w.resolve("b" + i + ".img")))).as(what + ": all zero").isTrue();
        }
        ToolOracle sfdisk = ToolOracle.require("sfdisk", "fdisk");
        JsonNode t = new ObjectMapper().readTree(sfdisk.runOk("--json", ab.toString()).stdout()).path("partitiontable");
        assertThat(t.path("partitions").size()).isEqualTo(7);
        for (int i = 0; i < 7; i++) {
            JsonNode j = t.path("partitions").get(i);
            assertThat(j.path("name").asText()).isEqualTo(ps.get(i).path("label").asText());
            assertThat(j.path("uuid").asText()).isEqualTo(ps.get(i).path("uuid").asText().toUpperCase(Locale.ROOT));
            assertThat(j.path("start").asLong() * 512).isEqualTo(ps.get(i).path("offset").asLong());
        }
        assertThat(ToolOracle.require("sgdisk", "gdisk").runOk("-v", ab.toString()).stdout()).contains("No problems found");

        MainTest.Run inspect = run("disk", "inspect", ab.toString(), "--cert", keys.resolve("db.crt").toString());
        assertThat(inspect.code()).as(inspect.out() + inspect.err()).isZero();

        // repart derives slot B's UUIDs from the seed as the second partition of each type (HMAC over type ‖ LE64(1))
        assertSameDisk(repart(ab, d, "ab", "auto", DiskImageIT::isVerityPair), ab, d, d.path("rawSize").asLong());

        // last, so that the checks above run whatever dissect says: systemd-dissect 252 takes the newest root, verity and
        // sig partitions by strverscmp_improved() of their labels, and must still pick slot A over the _empty slot B
        Map<String, JsonNode> m = dissect(ToolOracle.require("systemd-dissect", "systemd-container"), ab);
        assertThat(m.get("root").path("partition_uuid").asText()).isEqualTo(hashHalf(rootHash, 0));
        assertThat(m.get("root").path("verity").asText()).isEqualTo("signed");
        assertThat(m.get("root-verity").path("partition_uuid").asText()).isEqualTo(hashHalf(rootHash, 1));
        assertThat(m.get("root-verity-sig").path("partition_uuid").asText())
                .isEqualTo(partition(d, "root-x86-64-verity-sig").path("uuid").asText());
        assertThat(m.get("esp")).isNotNull();
    }

    // ---------------------------------------------------------------------------------------------- cairn disk assemble

    @Test
    void cairnDiskAssembleWritesWhatRepartWritesFromTheSameFiles() throws IOException {
        // the example's four partitions as files, two linux-generic ones and a var one of 5 KiB (repart takes multiples
        // of 512): rounded up to 4 KiB, UUIDs for the 1st and 2nd of a type, default labels linux-generic, linux-generic-2,
        // repart's default flags (root and var grow-fs, verity read-only)
        Path w = work("assemble");
        List<String[]> parts = new ArrayList<>();
        for (String d : List.of("esp", "root-x86-64", "root-x86-64-verity", "root-x86-64-verity-sig")) {
            parts.add(new String[] {d, extract(disk, partition(manifest, d), w.resolve(d + ".img")).toString()});
        }
        for (int i = 0; i < 3; i++) {
            Path f = w.resolve("generic" + i + ".img");
            dev.cairn.testing.SeededData.writeFile(f, 40 + i, 5120);
            parts.add(new String[] {i < 2 ? "linux-generic" : "var", f.toString()});
        }
        String seed = manifest.path("seed").asText();
        List<String> args = new ArrayList<>(List.of("disk", "assemble", w.resolve("cairn.raw").toString(), "--seed", seed, "--json"));
        for (String[] p : parts) {
            args.add("--partition");
            args.add(p[0] + ":" + p[1]);
        }
        MainTest.Run r = run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.path("diskGuid")).isEqualTo(manifest.path("diskGuid"));
        assertThat(partitions(j).stream().map(p -> p.path("label").asText())).containsExactly("esp", "root-x86-64",
                "root-x86-64-verity", "root-x86-64-verity-sig", "linux-generic", "linux-generic-2", "var");
        assertThat(partitions(j).stream().map(p -> p.path("attributes").asText())).containsExactly("0x0000000000000000",
                "0x0800000000000000", "0x1000000000000000", "0x0000000000000000", "0x0000000000000000", "0x0000000000000000",
                "0x0800000000000000");
        assertThat(partitions(j).get(4).path("size").asLong()).isEqualTo(8192);

        // repart derives every UUID, label and flag itself: Type=, CopyBlocks= and the size only
        ToolOracle repart = ToolOracle.require("systemd-repart", "systemd");
        Path defs = Files.createDirectories(w.resolve("repart.d"));
        for (int i = 0; i < parts.size(); i++) {
            Files.writeString(defs.resolve(String.format(Locale.ROOT, "%02d-part.conf", i)), "[Partition]\nType=" + parts.get(i)[0]
                    + "\nCopyBlocks=" + parts.get(i)[1] + "\nSizeMinBytes=" + partitions(j).get(i).path("size").asLong()
                    + "\nSizeMaxBytes=" + partitions(j).get(i).path("size").asLong() + "\n");
        }
        Path theirs = w.resolve("repart.raw");
        repart.runOk("--empty=create", "--size=auto", "--seed=" + seed, "--dry-run=no", "--no-pager", "--definitions=" + defs,
                theirs.toString());
        assertSameDisk(theirs, w.resolve("cairn.raw"), j, j.path("rawSize").asLong());
    }

    // ---------------------------------------------------------------------------------------------- reproducible

    @Test
    void twoBuildsGiveTheSameDiskBytes() throws IOException {
        Path again = build(spec, "out-again");
        assertThat(Files.mismatch(disk, again.resolve("disk.raw"))).as("first differing byte").isEqualTo(-1L);
    }

    // ---------------------------------------------------------------------------------------------- cairn disk inspect

    @Test
    void cairnDiskInspectAgreesAndNamesWhatIsWrong() throws IOException {
        MainTest.Run plain = run("disk", "inspect", disk.toString());
        assertThat(plain.code()).as(plain.out() + plain.err()).isZero();

        MainTest.Run json = run("disk", "inspect", disk.toString(), "--json");
        assertThat(json.code()).as(json.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(json.out());
        List<String> designators = new ArrayList<>();
        j.path("partitions").forEach(p -> designators.add(p.path("designator").asText()));
        assertThat(designators).containsExactly("esp", "root-x86-64", "root-x86-64-verity", "root-x86-64-verity-sig");
        assertThat(j.path("rootHash").asText()).isEqualTo(rootHash);
        assertThat(j.path("signedRootHash").asText()).isEqualTo(rootHash);
        assertThat(j.path("diskGuid").asText()).isEqualTo(manifest.path("diskGuid").asText());
        assertThat(j.path("ok").asBoolean()).isTrue();

        MainTest.Run cert = run("disk", "inspect", disk.toString(), "--cert", keys.resolve("db.crt").toString());
        assertThat(cert.code()).as(cert.out() + cert.err()).isZero();
        assertThat(cert.out()).contains("root-hash signature");
        MainTest.Run other = run("disk", "inspect", disk.toString(), "--cert", keys.resolve("ca.crt").toString());
        assertThat(other.code()).as(other.out() + other.err()).isEqualTo(1);
        assertThat(other.err()).contains("root-hash signature");

        Path flipped = work("inspect").resolve("flipped.raw");
        Files.copy(disk, flipped);
        long at = partition(manifest, "root-x86-64").path("offset").asLong() + 100;
        try (RandomAccessFile f = new RandomAccessFile(flipped.toFile(), "rw")) {
            f.seek(at);
            int x = f.read();
            f.seek(at);
            f.write(x ^ 0x01);
        }
        MainTest.Run bad = run("disk", "inspect", flipped.toString());
        assertThat(bad.code()).as(bad.out() + bad.err()).isEqualTo(1);
        assertThat(bad.err()).contains("root hash");
        assertThat(bad.out()).contains("FAILED root hash");
    }
}
