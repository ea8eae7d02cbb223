package dev.cairn.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Sha256Test {
    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    @Test
    void fipsExamples() {
        assertThat(hex(new Sha256().digest("abc".getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(hex(new Sha256().digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        assertThat(hex(new Sha256().digest())).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        Sha256 million = new Sha256();
        byte[] a = new byte[1000];
        java.util.Arrays.fill(a, (byte) 'a');
        for (int i = 0; i < 1000; i++) {
            million.update(a);
        }
        assertThat(hex(million.digest())).isEqualTo("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }

    /** Every length around the padding boundaries and beyond, fed in pieces of every size: the JDK's digest. */
    @Test
    void sameAsTheJdkForEveryLengthAndSplit() throws Exception {
        Random r = new Random(7);
        MessageDigest jdk = MessageDigest.getInstance("SHA-256");
        for (int len = 0; len < 300; len++) {
            byte[] data = new byte[len];
            r.nextBytes(data);
            byte[] expected = jdk.digest(data);
            assertThat(new Sha256().digest(data)).as("length %d", len).isEqualTo(expected);
            for (int piece : new int[] {1, 3, 63, 64, 65, 127}) {
                Sha256 s = new Sha256();
                for (int at = 0; at < len; at += piece) {
                    if (piece == 1) {
                        s.update(data[at]);
                    } else {
                        s.update(data, at, Math.min(piece, len - at));
                    }
                }
                assertThat(s.digest()).as("length %d in pieces of %d", len, piece).isEqualTo(expected);
            }
        }
        byte[] big = new byte[3 << 20];
        r.nextBytes(big);
        assertThat(new Sha256().digest(big)).isEqualTo(jdk.digest(big));
        Sha256 direct = new Sha256();
        ByteBuffer buffer = ByteBuffer.allocateDirect(big.length).put(big).flip();
        direct.update(buffer);
        assertThat(direct.digest()).isEqualTo(jdk.digest(big));
    }

    @Test
    void cloneAndResetAndDigestIntoAnArray() throws Exception {
        Sha256 s = new Sha256();
        s.update("salt".getBytes(StandardCharsets.US_ASCII));
        Sha256 copy = s.clone();
        s.update("one".getBytes(StandardCharsets.US_ASCII));
        copy.update("two".getBytes(StandardCharsets.US_ASCII));
        MessageDigest jdk = MessageDigest.getInstance("SHA-256");
        assertThat(s.digest()).isEqualTo(jdk.digest("saltone".getBytes(StandardCharsets.US_ASCII)));
        assertThat(copy.digest()).isEqualTo(jdk.digest("salttwo".getBytes(StandardCharsets.US_ASCII)));
        s.update((byte) 1);
        s.reset();
        byte[] out = new byte[40];
        assertThat(s.digest(out, 8, 32)).isEqualTo(32);
        assertThat(java.util.Arrays.copyOfRange(out, 8, 40)).isEqualTo(jdk.digest(new byte[0]));
        assertThat(s.getDigestLength()).isEqualTo(32);
        assertThat(s.getAlgorithm()).isEqualTo("SHA-256");
    }

    @Test
    void forSizeChoosesByTheAmountToHash() {
        assertThat(Sha256.forSize(4096)).isInstanceOf(Sha256.class);
        assertThat(Sha256.forSize(Sha256.SMALL)).isInstanceOf(Sha256.class);
        assertThat(Sha256.forSize(Sha256.SMALL + 1)).isNotInstanceOf(Sha256.class);
        assertThat(Sha256.forSize(-1)).isNotInstanceOf(Sha256.class);
        assertThat(Sha256.forSize(-1).getAlgorithm()).isEqualTo("SHA-256");
    }

    @Test
    void theWarmUpRunsOnADaemonThreadThatEndsByItself() throws Exception {
        Sha256.warmJdkDigest();
        Thread warm = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("cairn-sha-warm")).findFirst().orElse(null);
        if (warm != null) { // else already over
            assertThat(warm.isDaemon()).isTrue();
            warm.join(10_000);
            assertThat(warm.isAlive()).isFalse();
        }
    }
}
