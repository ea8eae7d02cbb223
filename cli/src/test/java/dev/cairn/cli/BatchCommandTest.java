package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.signing.CmsVerifier;
import dev.cairn.signing.ModuleSignature;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.TinyPe;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batches of {@code sign module}, {@code sign pe}, {@code verify pe} and {@code ima sign}: good
 * files done, bad ones named and untouched, --fail-fast, --json, exit codes. The oracle ITs
 * (ModuleSignIT, UkiCommandIT, ImaEvmctlIT) check batch outputs with modinfo, sbverify and evmctl.
 */
class BatchCommandTest {
    @TempDir
    Path dir;
    Path key;
    Path cert;

    @BeforeEach
    void keys() {
        key = TestPki.get().rsaLeaf().writeKeyPem(dir.resolve("k.pem"));
        cert = TestPki.get().rsaLeaf().writeCertPem(dir.resolve("c.pem"));
    }

    /** An ELF-looking file (cairn checks only the magic before signing; ModuleSignIT uses real objects). */
    private Path module(String name, long seed) throws Exception {
        byte[] b = SeededData.bytes(seed, 3000 + (int) seed * 100);
        b[0] = 0x7f;
        b[1] = 'E';
        b[2] = 'L';
        b[3] = 'F';
        return Files.write(dir.resolve(name), b);
    }

    private String[] signModule(Object... args) {
        List<String> a = new ArrayList<>(List.of("sign", "module", "--key", key.toString(), "--cert", cert.toString()));
        for (Object o : args) {
            a.add(o.toString());
        }
        return a.toArray(String[]::new);
    }

    /** The module's appended PKCS#7 verifies over the original bytes with the test leaf certificate. */
    private static void assertSignedOver(Path module, byte[] original) throws Exception {
        byte[] signed = Files.readAllBytes(module);
        assertThat(ModuleSignature.isSigned(signed)).as(module.toString()).isTrue();
        assertThat(Arrays.copyOf(signed, original.length)).isEqualTo(original);
        int sigLen = ByteBuffer.wrap(signed, signed.length - ModuleSignature.MAGIC.length - 4, 4).getInt();
        assertThat(original.length + sigLen + ModuleSignature.INFO_SIZE + ModuleSignature.MAGIC.length).isEqualTo(signed.length);
        byte[] sig = Arrays.copyOfRange(signed, original.length, original.length + sigLen);
        CmsVerifier.verify(sig, original, List.of(TestPki.get().ca().cert()), List.of(TestPki.get().rsaLeaf().cert()), Instant.now());
    }

    private List<String> names() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void moduleBatchSignsTheGoodOnesAndNamesEachBadOne() throws Exception {
        Path a = module("a.ko", 1);
        Path b = module("b.ko", 2);
        Path c = module("c.ko", 3);
        Path notElf = Files.writeString(dir.resolve("notelf.ko"), "#!/bin/sh\n");
        Path missing = dir.resolve("missing.ko");
        byte[] a0 = Files.readAllBytes(a);
        byte[] b0 = Files.readAllBytes(b);
        byte[] c0 = Files.readAllBytes(c);
        // the same module signed alone, for byte comparison (RSA PKCS#1 v1.5 signatures are deterministic)
        Path alone = Files.write(dir.resolve("alone.ko"), b0);
        assertThat(run(signModule(alone)).code()).isZero();

        MainTest.Run r = run(signModule(a, notElf, b, missing, c));
        assertThat(r.code()).as("a partial batch").as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("cairn: " + notElf + ": not an ELF file").contains("cairn: " + missing + ": no such file")
                .endsWith("cairn: signed 3 of 5 modules; 2 failed\n");
        assertThat(r.err().lines().filter(l -> l.startsWith("cairn: "))).hasSize(3);
        assertSignedOver(a, a0);
        assertSignedOver(b, b0);
        assertSignedOver(c, c0);
        assertThat(Files.readAllBytes(b)).isEqualTo(Files.readAllBytes(alone));
        assertThat(notElf).hasContent("#!/bin/sh\n");
        assertThat(missing).doesNotExist();
        assertThat(names()).containsExactly("a.ko", "alone.ko", "b.ko", "c.ko", "c.pem", "k.pem", "notelf.ko");

        // signing again: every module is already signed, a signing error (4) for each, nothing changed
        byte[] a1 = Files.readAllBytes(a);
        MainTest.Run again = run(signModule(a, c));
        assertThat(again.code()).isEqualTo(4);
        assertThat(again.err()).contains(a + ": the module already has an appended signature")
                .contains(c + ": the module already has an appended signature").contains("signed 0 of 2 modules; 2 failed");
        assertThat(Files.readAllBytes(a)).isEqualTo(a1);
    }

    @Test
    void moduleBatchOutputDoesNotDependOnThreads() throws Exception {
        List<Path> one = new ArrayList<>();
        List<Path> many = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            one.add(module("one" + i + ".ko", i));
            many.add(module("many" + i + ".ko", i));
        }
        List<Object> args1 = new ArrayList<>(List.of("--threads", "1"));
        args1.addAll(one);
        List<Object> args4 = new ArrayList<>(List.of("--threads", "4"));
        args4.addAll(many);
        assertThat(run(signModule(args1.toArray())).code()).isZero();
        MainTest.Run r = run(signModule(args4.toArray()));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEqualTo("cairn: signed 12 of 12 modules\n");
        for (int i = 0; i < 12; i++) {
            assertThat(Files.readAllBytes(many.get(i))).isEqualTo(Files.readAllBytes(one.get(i)));
        }
    }

    @Test
    void failFastStopsAtTheFirstFailureAndLeavesTheRestUntouched() throws Exception {
        for (String threads : List.of("1", "3")) {
            Path a = module("a" + threads + ".ko", 1);
            Path bad = Files.writeString(dir.resolve("bad" + threads + ".ko"), "not a module");
            List<Path> rest = new ArrayList<>();
            List<byte[]> before = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                rest.add(module("z" + threads + "-" + i + ".ko", 10 + i));
                before.add(Files.readAllBytes(rest.get(i)));
            }
            byte[] a0 = Files.readAllBytes(a);
            List<Object> args = new ArrayList<>(List.of("--fail-fast", "--threads", threads, a, bad));
            args.addAll(rest);
            MainTest.Run r = run(signModule(args.toArray()));
            assertThat(r.code()).as(r.err()).isEqualTo(1);
            assertThat(r.err()).contains(bad + ": not an ELF file").endsWith("signed 1 of 10 modules; 1 failed, 8 not attempted (--fail-fast)\n");
            assertSignedOver(a, a0);
            for (int i = 0; i < rest.size(); i++) {
                // prepared ahead on the worker threads perhaps, but never written
                assertThat(Files.readAllBytes(rest.get(i))).as(rest.get(i).toString()).isEqualTo(before.get(i));
            }
        }
        assertThat(names()).allMatch(n -> n.endsWith(".ko") || n.endsWith(".pem")); // no temporary files left
    }

    @Test
    void jsonListsEveryModule() throws Exception {
        Path a = module("a.ko", 1);
        Path bad = Files.writeString(dir.resolve("bad.ko"), "x");
        MainTest.Run r = run(signModule("--json", a, bad));
        assertThat(r.code()).isEqualTo(1);
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j).hasSize(2);
        assertThat(j.at("/0/file").asText()).isEqualTo(a.toString());
        assertThat(j.at("/0/signed").asBoolean()).isTrue();
        assertThat(j.at("/0/output").asText()).isEqualTo(a.toString());
        assertThat(j.at("/1/file").asText()).isEqualTo(bad.toString());
        assertThat(j.at("/1/signed").asBoolean()).isFalse();
        assertThat(j.at("/1/exitCode").asInt()).isEqualTo(3);
        assertThat(j.at("/1/error").asText()).contains("not an ELF file");
        assertThat(r.err()).contains(bad + ": not an ELF file").doesNotContain("signed 1 of 2");
    }

    @Test
    void keyProblemsAndUsageErrorsTouchNoModule() throws Exception {
        Path a = module("a.ko", 1);
        Path b = module("b.ko", 2);
        byte[] a0 = Files.readAllBytes(a);
        Path wrongCert = TestPki.get().ecLeaf().writeCertPem(dir.resolve("ec.pem"));
        MainTest.Run r = run("sign", "module", "--key", key.toString(), "--cert", wrongCert.toString(), a.toString(), b.toString());
        assertThat(r.code()).isEqualTo(4);
        assertThat(r.err()).doesNotContain("signed 0 of").doesNotContain(a.toString());
        assertThat(Files.readAllBytes(a)).isEqualTo(a0);

        MainTest.Run out = run(signModule("--out", dir.resolve("x.ko"), a, b));
        assertThat(out.code()).isEqualTo(2);
        assertThat(out.err()).contains("--out takes one MODULE");
        MainTest.Run twice = run(signModule(a, b, dir.resolve(".").resolve("a.ko")));
        assertThat(twice.code()).isEqualTo(2);
        assertThat(twice.err()).contains("given twice");
        assertThat(Files.readAllBytes(a)).isEqualTo(a0);
    }

    @Test
    void peBatchSignsToDotSignedOrAnOutputDirAndVerifyPeChecksMany() throws Exception {
        Path sbKey = TestPki.get().secureBoot().writeKeyPem(dir.resolve("db.key"));
        Path sbCert = TestPki.get().secureBoot().writeCertPem(dir.resolve("db.crt"));
        Path k1 = Files.write(dir.resolve("k1.efi"), TinyPe.kernel(3000));
        Path k2 = Files.write(dir.resolve("k2.efi"), TinyPe.kernel(5000));
        Path junk = Files.write(dir.resolve("junk.efi"), SeededData.bytes(5, 4000));
        MainTest.Run s = run("sign", "pe", "--key", sbKey.toString(), "--cert", sbCert.toString(), k1.toString(), junk.toString(), k2.toString());
        assertThat(s.code()).as(s.err()).isEqualTo(1);
        assertThat(s.err()).contains("cairn: signed " + k1 + ".signed (1 signature(s))").contains("cairn: " + junk)
                .contains("cairn: signed " + k2 + ".signed (1 signature(s))").endsWith("cairn: signed 2 of 3 images; 1 failed\n");
        assertThat(dir.resolve("junk.efi.signed")).doesNotExist();
        // the same image signed alone: byte-identical
        Path alone = dir.resolve("alone.efi");
        assertThat(run("sign", "pe", "--key", sbKey.toString(), "--cert", sbCert.toString(), "-o", alone.toString(), k2.toString()).code())
                .isZero();
        assertThat(Files.readAllBytes(dir.resolve("k2.efi.signed"))).isEqualTo(Files.readAllBytes(alone));

        Path outDir = dir.resolve("signed");
        MainTest.Run d = run("sign", "pe", "--key", sbKey.toString(), "--cert", sbCert.toString(), "--output-dir", outDir.toString(),
                "--json", k1.toString(), k2.toString());
        assertThat(d.code()).as(d.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(d.out());
        assertThat(j.at("/1/output").asText()).isEqualTo(outDir.resolve("k2.efi").toString());
        assertThat(j.at("/1/signatures").asInt()).isEqualTo(1);
        assertThat(Files.readAllBytes(outDir.resolve("k2.efi"))).isEqualTo(Files.readAllBytes(alone));

        // verify pe over many: the unsigned original fails verification (1, the first failure), junk is bad input
        MainTest.Run v = run("verify", "pe", "--cert", sbCert.toString(), outDir.resolve("k1.efi").toString(), k1.toString(),
                outDir.resolve("k2.efi").toString(), junk.toString());
        assertThat(v.code()).isEqualTo(1);
        assertThat(v.out()).contains(outDir.resolve("k1.efi") + ": Signature verification OK")
                .contains(outDir.resolve("k2.efi") + ": Signature verification OK").doesNotContain(k1 + ": Signature");
        assertThat(v.err()).contains("cairn: " + k1 + ": no signature table present").contains("cairn: " + junk)
                .endsWith("cairn: verified 2 of 4 images; 2 failed\n");
        MainTest.Run vj = run("verify", "pe", "--cert", sbCert.toString(), "--json", junk.toString(), outDir.resolve("k2.efi").toString());
        assertThat(vj.code()).isEqualTo(1);
        JsonNode list = new ObjectMapper().readTree(vj.out());
        assertThat(list.at("/0/verified").asBoolean()).isFalse();
        assertThat(list.at("/0/exitCode").asInt()).isEqualTo(3);
        assertThat(list.at("/1/verified").asBoolean()).isTrue();
        assertThat(list.at("/1/imageDigest").asText()).hasSize(64);
        MainTest.Run ff = run("verify", "pe", "--cert", sbCert.toString(), "--fail-fast", k1.toString(), alone.toString());
        assertThat(ff.code()).isEqualTo(1);
        assertThat(ff.out()).isEmpty();
        assertThat(ff.err()).contains("verified 0 of 2 images; 1 failed, 1 not attempted (--fail-fast)");

        // in place, and the usage errors of the batch form
        Path c1 = Files.copy(k1, dir.resolve("c1.efi"));
        Path c2 = Files.copy(k2, dir.resolve("c2.efi"));
        assertThat(run("sign", "pe", "--key", sbKey.toString(), "--cert", sbCert.toString(), "--in-place", c1.toString(), c2.toString())
                .code()).isZero();
        assertThat(run("verify", "pe", "--cert", sbCert.toString(), c1.toString(), c2.toString()).code()).isZero();
        MainTest.Run o = run("sign", "pe", "--key", sbKey.toString(), "--cert", sbCert.toString(), "-o", dir.resolve("x").toString(),
                k1.toString(), k2.toString());
        assertThat(o.code()).isEqualTo(2);
        assertThat(o.err()).contains("--output takes one IN");
        Files.createDirectories(dir.resolve("sub"));
        Path sameName = Files.copy(k2, dir.resolve("sub/k1.efi"));
        MainTest.Run clash = run("sign", "pe", "--key", sbKey.toString(), "--cert", sbCert.toString(), "--output-dir", outDir.toString(),
                k1.toString(), sameName.toString());
        assertThat(clash.code()).isEqualTo(2);
        assertThat(clash.err()).contains("would both write");
    }

    @Test
    void peRemoveSignatureInBatches() throws Exception {
        Path sbKey = TestPki.get().secureBoot().writeKeyPem(dir.resolve("db.key"));
        Path sbCert = TestPki.get().secureBoot().writeCertPem(dir.resolve("db.crt"));
        Path k1 = Files.write(dir.resolve("k1.efi"), TinyPe.kernel(3000));
        Path k2 = Files.write(dir.resolve("k2.efi"), TinyPe.kernel(4000));
        assertThat(run("sign", "pe", "--key", sbKey.toString(), "--cert", sbCert.toString(), "--in-place", k1.toString(), k2.toString())
                .code()).isZero();
        MainTest.Run r = run("sign", "pe", "--remove-signature", "--in-place", k1.toString(), k2.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains(k1 + " keeps 0 signature(s)").endsWith("cairn: removed signatures from 2 of 2 images\n");
        MainTest.Run v = run("verify", "pe", "--cert", sbCert.toString(), k1.toString(), k2.toString());
        assertThat(v.code()).isEqualTo(1);
        assertThat(v.err()).contains(k1 + ": no signature table present").contains(k2 + ": no signature table present");
    }

    @Test
    void imaBatchSignsTheGoodFilesAndFailFastStopsBeforeWriting() throws Exception {
        Path f1 = Files.writeString(dir.resolve("f1"), "first");
        Path f2 = Files.writeString(dir.resolve("f2"), "second");
        Path missing = dir.resolve("nosuchfile");
        MainTest.Run ff = run("ima", "sign", "--sigfile", "--fail-fast", missing.toString(), f1.toString(), f2.toString(),
                "--key", key.toString(), "--cert", cert.toString());
        assertThat(ff.code()).isEqualTo(3);
        assertThat(ff.err()).contains("cairn: " + missing + ": no such file").contains("signed 0 of 3 files; 1 failed, 2 not attempted");
        assertThat(names()).containsExactly("c.pem", "f1", "f2", "k.pem");

        MainTest.Run j = run("ima", "sign", "--no-xattr", "--json", f1.toString(), missing.toString(), f2.toString(),
                "--key", key.toString(), "--cert", cert.toString());
        assertThat(j.code()).isEqualTo(1);
        JsonNode blobs = new ObjectMapper().readTree(j.out());
        assertThat(blobs.fieldNames()).toIterable().containsExactly(f1.toString(), f2.toString());
        assertThat(j.err()).contains(missing + ": no such file");
    }
}
