package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * {@code cairn sysext create} against tools no one here wrote (ddi-sysext.md §4, §7):
 * {@code systemd-dissect} 252 recognises the DDI as "extension for system" with its
 * extension-release and a {@code signed} root (and takes only the right {@code --root-hash=});
 * {@code sfdisk} reads the partition table; {@code unsquashfs} finds the release file in the root
 * partition; {@code veritysetup verify} accepts the hash partition; {@code openssl smime} verifies
 * the signature in the signature partition (and in {@code NAME.roothash.p7s} beside a naked
 * SquashFS, which dissect shows with VERITY {@code external}); {@code systemd-sysext --root=DIR
 * list} lists the image under {@code DIR/var/lib/extensions}. 252 has no confext: a confext is shown
 * with "✗ extension for system" and no extension-release (252 reads only
 * {@code /usr/lib/extension-release.d}). Two runs give the same bytes; refusals exit 2 or 3.
 *
 * <p>systemd-dissect needs root (it attaches loop devices): skipped locally without, a failure
 * under {@code CI=true}. It runs under {@code LC_ALL=C.UTF-8}: in the C locale systemd prints
 * {@code +}/{@code -} instead of ✓/✗.
 */
class SysextIT {
    static final Duration TIMEOUT = Duration.ofMinutes(2);
    static final String SDE = "1700000000";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    Path key;
    Path cert;
    Path ca;

    @BeforeEach
    void keys() {
        TestPki.KeyAndCert k = TestPki.get().rsaLeaf();
        key = k.writeKeyPem(dir.resolve("verity.key"));
        cert = k.writeCertPem(dir.resolve("verity.crt"));
        ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.crt"));
    }

    // ---- helpers ----

    /** A directory tree: pairs of relative path and content. */
    Path tree(String name, String... files) throws IOException {
        Path root = dir.resolve(name);
        for (int i = 0; i < files.length; i += 2) {
            Path f = root.resolve(files[i]);
            Files.createDirectories(f.getParent());
            Files.writeString(f, files[i + 1]);
        }
        return root;
    }

    Path usrTree() throws IOException {
        return tree("src", "usr/bin/hello", "#!/bin/sh\necho hello from a sysext\n", "usr/share/hello/README", "readme ".repeat(2000),
                "opt/hello/data", "x");
    }

    /** {@code cairn sysext create SOURCE OUT ARGS… --key --cert --source-date-epoch}, asserting exit 0; the --json output. */
    JsonNode create(Path source, Path out, String... args) throws IOException {
        List<String> a = new ArrayList<>(List.of("sysext", "create", source.toString(), out.toString()));
        a.addAll(List.of(args));
        a.addAll(List.of("--key", key.toString(), "--cert", cert.toString(), "--source-date-epoch", SDE, "--json"));
        MainTest.Run r = run(a.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        return JSON.readTree(r.out());
    }

    static void requireRoot() throws IOException {
        String uid = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                .map(l -> l.split("\\s+")[2]).findFirst().orElse("?");
        if (!uid.equals("0")) {
            String msg = "systemd-dissect needs root to attach loop devices (effective uid " + uid + ")";
            if (ToolOracle.isCi()) {
                throw new AssertionFailedError(msg + " (CI=true, so this is a failure, not a skip)");
            }
            Assumptions.abort(msg);
        }
    }

    /** systemd-dissect under a UTF-8 locale (✓/✗), through env(1): ToolOracle runs tools with LC_ALL=C. */
    static ToolOracle.Result dissect(String... args) throws IOException {
        ToolOracle dissect = ToolOracle.require("systemd-dissect", "systemd-container");
        ToolOracle env = ToolOracle.require("env", "coreutils");
        requireRoot();
        List<String> a = new ArrayList<>(List.of("LC_ALL=C.UTF-8", dissect.executable().toString()));
        a.addAll(List.of(args));
        return env.run(TIMEOUT, null, a, null);
    }

    static JsonNode partition(JsonNode cairnJson, String designator) {
        for (JsonNode p : cairnJson.path("partitions")) {
            if (p.path("designator").asText().equals(designator)) {
                return p;
            }
        }
        throw new AssertionFailedError("no " + designator + " partition in " + cairnJson);
    }

    static Path extract(Path image, long offset, long size, Path to) throws IOException {
        try (FileChannel in = FileChannel.open(image, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long done = 0;
            while (done < size) {
                done += in.transferTo(offset + done, size - done, out);
            }
        }
        return to;
    }

    /** openssl smime verifies a DER PKCS#7 over the hex root hash (no newline) against the test CA. */
    void assertSignatureVerifies(byte[] p7s, String rootHash) throws IOException {
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        Path sig = Files.write(dir.resolve("check-" + rootHash.substring(0, 8) + ".p7s"), p7s);
        Path content = Files.writeString(dir.resolve("check-" + rootHash.substring(0, 8) + ".txt"), rootHash);
        openssl.runOk("smime", "-verify", "-binary", "-inform", "DER", "-in", sig.toString(), "-content", content.toString(),
                "-CAfile", ca.toString(), "-purpose", "any", "-out", "/dev/null");
        Path other = Files.writeString(dir.resolve("other.txt"), rootHash.replace(rootHash.charAt(0), rootHash.charAt(0) == 'a' ? 'b' : 'a'));
        assertThat(openssl.run(TIMEOUT, "smime", "-verify", "-binary", "-inform", "DER", "-in", sig.toString(), "-content",
                other.toString(), "-CAfile", ca.toString(), "-purpose", "any", "-out", "/dev/null").exitCode()).isNotZero();
    }

    // ---- tests ----

    @Test
    void signedSysextDdiIsAnExtensionForSystemdDissect252() throws Exception {
        Path out = dir.resolve("out/hello.raw");
        JsonNode c = create(usrTree(), out, "--name", "hello", "--os-id", "debian", "--version-id", "12", "--arch", "x86-64");
        String rootHash = c.path("rootHash").asText();
        assertThat(c.path("signed").asBoolean()).isTrue();

        // systemd-dissect 252: an extension for this system, its release file, a signed verity root
        ToolOracle.Result text = dissect(out.toString()).assertExit(0);
        assertThat(text.stdout()).contains("✓ extension for system").contains("Ext. Rel.: ID=debian").contains("VERSION_ID=12")
                .contains("ARCHITECTURE=x86-64");
        JsonNode d = JSON.readTree(dissect("--json=short", out.toString()).assertExit(0).stdout());
        assertThat(d.path("name").asText()).isEqualTo("hello.raw");
        assertThat(d.path("useSystemExtension").asBoolean()).isTrue();
        assertThat(d.path("extensionRelease")).extracting(JsonNode::asText).containsExactly("ID=debian", "VERSION_ID=12",
                "ARCHITECTURE=x86-64");
        List<String> designators = new ArrayList<>();
        for (JsonNode m : d.path("mounts")) {
            designators.add(m.path("designator").asText());
            String cairnUuid = partition(c, switch (m.path("designator").asText()) {
                case "root" -> "root-x86-64";
                case "root-verity" -> "root-x86-64-verity";
                default -> "root-x86-64-verity-sig";
            }).path("uuid").asText();
            assertThat(m.path("partition_uuid").asText()).isEqualTo(cairnUuid);
            assertThat(m.path("rw").asText()).isEqualTo("ro");
            assertThat(m.path("architecture").asText()).isEqualTo("x86-64");
            if (m.path("designator").asText().equals("root")) {
                assertThat(m.path("verity").asText()).isEqualTo("signed");
                assertThat(m.path("fstype").asText()).isEqualTo("squashfs");
            }
        }
        assertThat(designators).containsExactly("root", "root-verity", "root-verity-sig");

        // --root-hash=: the right hash finds the root partition (UUIDs = hash halves), a wrong one does not
        dissect("--root-hash=" + rootHash, out.toString()).assertExit(0);
        String wrong = (rootHash.charAt(0) == '0' ? "1" : "0") + rootHash.substring(1);
        ToolOracle.Result w = dissect("--root-hash=" + wrong, out.toString());
        assertThat(w.exitCode()).isEqualTo(1);
        assertThat(w.stderr()).contains("No root partition for specified root hash found");

        // cairn's own reader: tree recomputed, signature verified against the signer's certificate
        MainTest.Run inspect = run("disk", "inspect", out.toString(), "--cert", cert.toString());
        assertThat(inspect.code()).as(inspect.out() + inspect.err()).isZero();

        // sfdisk reads the table cairn reports
        ToolOracle sfdisk = ToolOracle.require("sfdisk", "fdisk");
        JsonNode table = JSON.readTree(sfdisk.runOk("--json", out.toString()).stdout()).path("partitiontable");
        assertThat(table.path("id").asText().toLowerCase(Locale.ROOT)).isEqualTo(c.path("diskGuid").asText());
        JsonNode sfRoot = table.path("partitions").get(0);
        JsonNode root = partition(c, "root-x86-64");
        assertThat(sfRoot.path("type").asText()).isEqualTo("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709");
        assertThat(sfRoot.path("start").asLong() * 512).isEqualTo(root.path("offset").asLong());
        assertThat(sfRoot.path("attrs").asText()).isEqualTo("GUID:60");
        assertThat(table.path("partitions")).hasSize(3);

        // unsquashfs, at the root partition's offset: the release file where systemd looks, with cairn's content
        ToolOracle unsquashfs = ToolOracle.require("unsquashfs", "squashfs-tools");
        String offset = Long.toString(sfRoot.path("start").asLong() * 512);
        String release = "usr/lib/extension-release.d/extension-release.hello";
        assertThat(unsquashfs.runOk("-o", offset, "-lln", out.toString()).stdout())
                .containsPattern("(?m)^-rw-r--r-- 0/0 +44 .* squashfs-root/" + release + "$")
                .contains("squashfs-root/usr/bin/hello").contains("squashfs-root/opt/hello/data");
        assertThat(unsquashfs.runOk("-o", offset, "-cat", out.toString(), release).stdout())
                .isEqualTo("ID=debian\nVERSION_ID=12\nARCHITECTURE=x86-64\n");

        // veritysetup: the hash partition is the root partition's tree for that root hash
        ToolOracle veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin");
        JsonNode hash = partition(c, "root-x86-64-verity");
        Path data = extract(out, root.path("offset").asLong(), root.path("size").asLong(), dir.resolve("root.img"));
        Path tree = extract(out, hash.path("offset").asLong(), hash.path("size").asLong(), dir.resolve("hash.img"));
        veritysetup.runOk("verify", data.toString(), tree.toString(), rootHash);

        // the signature partition: systemd's JSON; openssl verifies its PKCS#7 over the hex root hash
        JsonNode sig = partition(c, "root-x86-64-verity-sig");
        byte[] sigBytes = Files.readAllBytes(extract(out, sig.path("offset").asLong(), sig.path("size").asLong(), dir.resolve("sig.img")));
        String sigJson = new String(sigBytes, StandardCharsets.US_ASCII);
        JsonNode s = JSON.readTree(sigJson.substring(0, sigJson.indexOf('\0')));
        assertThat(s.path("rootHash").asText()).isEqualTo(rootHash);
        assertSignatureVerifies(Base64.getDecoder().decode(s.path("signature").asText()), rootHash);
    }

    @Test
    void twoRunsAreByteIdentical() throws Exception {
        Path src = usrTree();
        create(src, dir.resolve("a/hello.raw"), "--name", "hello", "--os-id", "debian", "--version-id", "12", "--threads", "1");
        // other mtimes in SOURCE, other thread count: every time stamp is the source date epoch
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.toList()) {
                Files.setLastModifiedTime(p, FileTime.fromMillis(1_000_000_000_000L));
            }
        }
        create(src, dir.resolve("b/hello.raw"), "--name", "hello", "--os-id", "debian", "--version-id", "12", "--threads", "2");
        assertThat(Files.readAllBytes(dir.resolve("b/hello.raw"))).isEqualTo(Files.readAllBytes(dir.resolve("a/hello.raw")));
        create(src, dir.resolve("c/hello.raw"), "--name", "hello", "--os-id", "debian", "--version-id", "12", "--format", "squashfs");
        create(src, dir.resolve("d/hello.raw"), "--name", "hello", "--os-id", "debian", "--version-id", "12", "--format", "squashfs");
        for (String f : List.of("hello.raw", "hello.verity", "hello.roothash", "hello.roothash.p7s")) {
            assertThat(Files.readAllBytes(dir.resolve("d").resolve(f))).as(f).isEqualTo(Files.readAllBytes(dir.resolve("c").resolve(f)));
        }
    }

    @Test
    void confextDdiAsSystemd252SeesIt() throws Exception {
        Path out = dir.resolve("myconf.raw");
        JsonNode c = create(tree("conf", "etc/myapp/myapp.conf", "greeting=hello\n"), out, "--confext", "--name", "myconf", "--os-id",
                "debian", "--confext-level", "1");
        assertThat(c.path("extensionRelease").path("path").asText()).isEqualTo("/etc/extension-release.d/extension-release.myconf");
        // 252 has no confext: dissect reads only /usr/lib/extension-release.d, so no release and no extension use;
        // the DDI itself (signed verity root) is recognised as for a sysext
        ToolOracle.Result text = dissect(out.toString()).assertExit(0);
        assertThat(text.stdout()).contains("✗ extension for system").doesNotContain("Ext. Rel.");
        JsonNode d = JSON.readTree(dissect("--json=short", out.toString()).assertExit(0).stdout());
        assertThat(d.path("useSystemExtension").asBoolean()).isFalse();
        assertThat(d.path("mounts").get(0).path("designator").asText()).isEqualTo("root");
        assertThat(d.path("mounts").get(0).path("verity").asText()).isEqualTo("signed");
        dissect("--root-hash=" + c.path("rootHash").asText(), out.toString()).assertExit(0);

        ToolOracle unsquashfs = ToolOracle.require("unsquashfs", "squashfs-tools");
        String offset = Long.toString(partition(c, "root-x86-64").path("offset").asLong());
        assertThat(unsquashfs.runOk("-o", offset, "-cat", out.toString(), "etc/extension-release.d/extension-release.myconf").stdout())
                .isEqualTo("ID=debian\nCONFEXT_LEVEL=1\n");
        assertThat(unsquashfs.runOk("-o", offset, "-cat", out.toString(), "etc/myapp/myapp.conf").stdout()).isEqualTo("greeting=hello\n");
    }

    @Test
    void nakedSquashfsWithSidecarsFromATarball() throws Exception {
        Path tar = dir.resolve("src.tar");
        try (OutputStream os = Files.newOutputStream(tar); TarArchiveOutputStream t = new TarArchiveOutputStream(os)) {
            for (String[] e : new String[][] {{"usr/", null}, {"usr/bin/", null}, {"usr/bin/tool", "#!/bin/sh\n"}}) {
                TarArchiveEntry te = new TarArchiveEntry(e[0]);
                te.setMode(e[1] == null ? 040755 : 0100755);
                if (e[1] != null) {
                    te.setSize(e[1].length());
                }
                t.putArchiveEntry(te);
                if (e[1] != null) {
                    t.write(e[1].getBytes(StandardCharsets.US_ASCII));
                }
                t.closeArchiveEntry();
            }
        }
        Path out = dir.resolve("ext/tool.raw");
        JsonNode c = create(tar, out, "--format", "squashfs", "--name", "tool", "--os-id", "_any", "--arch", "_any");
        String rootHash = c.path("rootHash").asText();
        Path ext = out.getParent();
        assertThat(Files.readString(ext.resolve("tool.roothash"))).isEqualTo(rootHash + "\n");

        // dissect 252 finds the sidecars (NAME.roothash, NAME.verity; only beside a *.raw image): VERITY external
        ToolOracle.Result text = dissect(out.toString()).assertExit(0);
        assertThat(text.stdout()).contains("✓ extension for system").contains("Ext. Rel.: ID=_any").contains("ARCHITECTURE=_any");
        JsonNode d = JSON.readTree(dissect("--json=short", out.toString()).assertExit(0).stdout());
        assertThat(d.path("mounts")).hasSize(1);
        assertThat(d.path("mounts").get(0).path("verity").asText()).isEqualTo("external");
        assertThat(d.path("mounts").get(0).path("fstype").asText()).isEqualTo("squashfs");

        ToolOracle veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin");
        veritysetup.runOk("verify", out.toString(), ext.resolve("tool.verity").toString(), rootHash);
        assertSignatureVerifies(Files.readAllBytes(ext.resolve("tool.roothash.p7s")), rootHash);
        ToolOracle unsquashfs = ToolOracle.require("unsquashfs", "squashfs-tools");
        assertThat(unsquashfs.runOk("-cat", out.toString(), "usr/lib/extension-release.d/extension-release.tool").stdout())
                .isEqualTo("ID=_any\nARCHITECTURE=_any\n");
    }

    @Test
    void systemdSysextListsTheImageUnderVarLibExtensions() throws Exception {
        ToolOracle sysext = ToolOracle.require("systemd-sysext", "systemd");
        Path root = dir.resolve("root").toAbsolutePath();
        Path out = root.resolve("var/lib/extensions/hello.raw");
        create(usrTree(), out, "--name", "hello", "--os-id", "debian", "--version-id", "12");
        JsonNode list = JSON.readTree(sysext.runOk("--root=" + root, "list", "--json=short").stdout());
        assertThat(list).hasSize(1);
        assertThat(list.get(0).path("name").asText()).isEqualTo("hello");
        assertThat(list.get(0).path("type").asText()).isEqualTo("raw");
        assertThat(list.get(0).path("path").asText()).isEqualTo(out.toString());
    }

    @Test
    void refusalsExitTwoOrThreeWithOneLine() throws Exception {
        Path src = usrTree();
        String[] ok = {"--name", "hello", "--os-id", "debian", "--version-id", "12", "--no-sign"};

        // an os-release in SOURCE: bad input (3)
        Path withOs = tree("os", "usr/bin/x", "x", "usr/lib/os-release", "ID=debian\n");
        MainTest.Run r = run(concat(new String[] {"sysext", "create", withOs.toString(), dir.resolve("o/hello.raw").toString()}, ok));
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("usr/lib/os-release is there: an extension image must not carry an os-release file")
                .doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(dir.resolve("o/hello.raw")).doesNotExist();

        // another extension-release file: 3
        Path other = tree("other", "usr/lib/extension-release.d/extension-release.world", "ID=debian\n");
        r = run(concat(new String[] {"sysext", "create", other.toString(), dir.resolve("o/hello.raw").toString()}, ok));
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("extension-release.world is there: cairn writes the extension-release file itself");

        // OUT not NAME.raw: usage (2)
        r = run(concat(new String[] {"sysext", "create", src.toString(), dir.resolve("hello.sysext.raw").toString()}, ok));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("systemd 252 names this image 'hello.sysext'").contains("name the file hello.raw");
        r = run(concat(new String[] {"sysext", "create", src.toString(), dir.resolve("hello.img").toString()}, ok));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("must end in .raw");

        // no --os-id: 2
        r = run("sysext", "create", src.toString(), dir.resolve("hello.raw").toString(), "--name", "hello", "--version-id", "12", "--no-sign");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--os-id is required");
        // only a level: still 2, with why (systemd matches ID= first; ID=_any would ignore the level)
        r = run("sysext", "create", src.toString(), dir.resolve("hello.raw").toString(), "--name", "hello", "--sysext-level", "1", "--no-sign");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--sysext-level needs --os-id too").contains("ignores the level");

        // neither a key nor --no-sign: 2
        r = run("sysext", "create", src.toString(), dir.resolve("hello.raw").toString(), "--name", "hello", "--os-id", "debian",
                "--version-id", "12");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--no-sign");

        // a name systemd would strip, a level for the wrong kind, an ID os-release does not allow: 2
        r = run("sysext", "create", src.toString(), dir.resolve("hello.img.raw").toString(), "--name", "hello.img", "--os-id", "debian",
                "--version-id", "12", "--no-sign");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("ends in '.img'");
        r = run(concat(new String[] {"sysext", "create", src.toString(), dir.resolve("hello.raw").toString(), "--confext-level", "1"}, ok));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--confext-level is for --confext images");
        r = run("sysext", "create", src.toString(), dir.resolve("hello.raw").toString(), "--name", "hello", "--os-id", "Debian",
                "--version-id", "12", "--no-sign");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("ID=Debian");
        assertThat(dir.resolve("hello.raw")).doesNotExist();
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
