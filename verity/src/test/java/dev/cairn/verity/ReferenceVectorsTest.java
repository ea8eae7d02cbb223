package dev.cairn.verity;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The veritysetup 2.6.1 vectors of ../shared/reference/verity-ipe-ima.md §1.4. */
class ReferenceVectorsTest {
    static final UUID UUID_REF = UUID.fromString("12345678-1234-1234-1234-123456789abc");
    static final byte[] Z32 = new byte[32];
    static final byte[] S32 = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    @TempDir
    Path dir;

    /** Block i filled with byte i & 0xff. */
    static byte[] pattern(int blocks, int bs) {
        byte[] b = new byte[blocks * bs];
        for (int i = 0; i < blocks; i++) {
            java.util.Arrays.fill(b, i * bs, (i + 1) * bs, (byte) i);
        }
        return b;
    }

    static Stream<Arguments> vectors() {
        VerityParams d10 = VerityParams.defaults(Z32, UUID_REF);
        VerityParams d300 = VerityParams.defaults(S32, UUID_REF).withBlockSizes(512, 512);
        return Stream.of(
                Arguments.of("D10 salt Z32", 10, 4096, d10,
                        "e88d6d926f3a9320a88a89bb32a0b227975dd24a9cb22145b5572b26e8da039d",
                        "fb25f9a87b208bbe99e88e94ff941afb0f6bcdff215bdfe71a1add3ed1a1d37c", 8192),
                Arguments.of("D10 no salt", 10, 4096, d10.withSalt(new byte[0]),
                        "748a05994ff133970c9a9f2d2e717be41daf2eb378a31ce38dbd92d09950351e", null, 8192),
                Arguments.of("D10 salt S32", 10, 4096, d10.withSalt(S32),
                        "207055c7f0b2310213d7093cc2493502703b2608712d66fe3ffd792f008dcf27",
                        "419ada0820c487e7ceae995a2d89593c32b399ec088462ad444c6b70aec933a6", 8192),
                Arguments.of("D10 S32 sha1", 10, 4096, d10.withSalt(S32).withHash(HashAlgorithm.SHA1),
                        "a408c7dbc097157daf89ccaef6dfb6e860db41c8",
                        "46536f3976af40f2ef7f069e07adee6b62b54cd1e268b84a2ba0a5d4b1f705da", 8192),
                Arguments.of("D10 S32 sha512", 10, 4096, d10.withSalt(S32).withHash(HashAlgorithm.SHA512),
                        "962ed2664c9269963ece725c8d8321f96ea3c0b34b8714d7094dea0049ad945508e100d2b90b24bb7d46cdaf086e15cbae4f1ddd7fe5b21992cdca6eac873b8a",
                        "400e6d75cda0ea922115ab23cef438668f62e5f7c4b3f7d85f057258ef538729", 8192),
                Arguments.of("D300 512/512", 300, 512, d300,
                        "80c01895388f715a2a5a2e2e1d9b36f46e8e69df240e56dab25a5b2c624e99ab",
                        "3bd58ad83184493579652aab3b32db271b63b7f412f74e897b33c1a5347459ae", 11776),
                Arguments.of("D300 512/512 format 0", 300, 512, d300.withHashType(0),
                        "bcd5f56212fca21cdca5617d11477a7ff09df1b0585caf28419edf234261a1c1",
                        "80f8b6ab9144eab4b0ccb1ef6f3f95d6cc2cfa021ea1af853c07fdd399f337d0", 11776));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void matchesVeritysetup(String name, int blocks, int bs, VerityParams p, String root, String imageSha, long size)
            throws Exception {
        Path data = dir.resolve("data");
        Path hash = dir.resolve("hash");
        Files.write(data, pattern(blocks, bs));
        for (int threads : new int[] {1, 3}) {
            Files.deleteIfExists(hash);
            VerityResult r = VerityFormatter.format(data, hash, p, threads, VerityProgress.NONE);
            assertThat(r.rootHashHex()).as("root hash, %d threads", threads).isEqualTo(root);
            byte[] image = Files.readAllBytes(hash);
            assertThat((long) image.length).isEqualTo(size);
            assertThat(r.hashDeviceSize()).isEqualTo(size);
            if (imageSha != null) {
                assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(image))).isEqualTo(imageSha);
            }
        }
    }

    @Test
    void dataSha256MatchesReferenceInputs() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        assertThat(HexFormat.of().formatHex(sha.digest(pattern(10, 4096))))
                .isEqualTo("bae080ac4103bb455bcf528a923761bc9d1a929f0528170d10f3fac646f5d51f");
        assertThat(HexFormat.of().formatHex(sha.digest(pattern(300, 512))))
                .isEqualTo("2d70c9c7cf28847ddfd9a63184551e69d3a377c6594a19d18cd2dee4269617d2");
    }

    @Test
    void singleZeroBlockWithoutSaltHasNoTree() throws Exception {
        Path data = dir.resolve("data");
        Path hash = dir.resolve("hash");
        Files.write(data, new byte[4096]);
        VerityResult r = VerityFormatter.format(data, hash, VerityParams.defaults(new byte[0], UUID_REF), 2, VerityProgress.NONE);
        assertThat(r.rootHashHex()).isEqualTo("ad7facb2586fc6e966c004d7d1d16b024f5805ff7cb47c7a85dabd8b48892ca7");
        assertThat(r.levels()).isZero();
        assertThat(r.hashBlocks()).isZero();
        assertThat(Files.size(hash)).isEqualTo(4096);
    }
}
