package dev.cairn.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RandomnessTest {
    @Test
    void bytesDifferEachTimeAndUuidsAreVersion4() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            assertThat(seen.add(java.util.HexFormat.of().formatHex(Randomness.bytes(32)))).isTrue();
            UUID u = Randomness.uuid();
            assertThat(u.version()).isEqualTo(4);
            assertThat(u.variant()).isEqualTo(2);
            assertThat(seen.add(u.toString())).isTrue();
        }
        assertThat(Randomness.bytes(0)).isEmpty();
    }
}
