package dev.cairn.signing.secureboot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The edk2 variable store writer on a synthetic empty store shaped like Debian's OVMF_VARS_4M.fd. */
class OvmfVarStoreTest {
    /** FV header (72 bytes: NvData GUID, _FVH, header length 72) + AuthVars store header of {@code storeSize}, 0xFF elsewhere. */
    static byte[] emptyStore(int storeSize, int total) {
        byte[] fd = new byte[total];
        Arrays.fill(fd, (byte) 0xFF);
        ByteBuffer b = ByteBuffer.wrap(fd).order(ByteOrder.LITTLE_ENDIAN);
        b.position(0).put(new byte[16]).put(EfiVariables.guid(OvmfVarStore.NV_DATA_FV)).putLong(total);
        b.put(new byte[] {'_', 'F', 'V', 'H'}).putInt(0x4feff).putShort((short) 72).putShort((short) 0).putShort((short) 0)
                .put((byte) 0).put((byte) 2).putInt(total / 0x1000).putInt(0x1000).putLong(0);
        b.position(72).put(EfiVariables.guid(OvmfVarStore.AUTH_VARS)).putInt(storeSize).put((byte) 0x5A).put((byte) 0xFE)
                .putShort((short) 0).putInt(0);
        return fd;
    }

    @Test
    void variableHeaderEncodesToTheEdk2Layout() {
        byte[] b = new byte[OvmfVarStore.VariableHeader.SIZE];
        new OvmfVarStore.VariableHeader(0x55AA, 0x3F, 0x27, 0, EfiVariables.efiTime(Instant.parse("2010-01-01T00:00:00Z")), 0, 6, 935,
                EfiVariables.guid(EfiVariables.IMAGE_SECURITY_DATABASE)).encode(b, 0);
        assertThat(HexFormat.of().formatHex(b)).isEqualTo("aa553f00" + "27000000" + "0000000000000000"
                + "da07010100000000" + "0000000000000000" + "00000000" + "06000000" + "a7030000"
                + "cbb219d73a3d9645a3bcdad00e67656f");
    }

    @Test
    void enrollsAfterExistingVariablesAndReadsThemBack() throws FormatException {
        byte[] template = emptyStore(0x3ffb8, 0x84000);
        List<OvmfVarStore.Variable> vars = OvmfVarStore.secureBoot(new byte[] {1, 2, 3}, new byte[] {4, 5}, new byte[] {6}, null,
                Instant.parse("2010-01-01T00:00:00Z"));
        byte[] fd = OvmfVarStore.enroll(template, vars);
        assertThat(fd).hasSize(template.length);
        assertThat(Arrays.copyOfRange(fd, 0, 100)).isEqualTo(Arrays.copyOfRange(template, 0, 100));
        List<OvmfVarStore.Variable> back = OvmfVarStore.read(fd);
        assertThat(back).extracting(OvmfVarStore.Variable::name).containsExactly("db", "KEK", "PK", "SecureBootEnable", "CustomMode");
        assertThat(back.get(2).data()).containsExactly(1, 2, 3);
        assertThat(back.get(2).attributes()).isEqualTo(0x27);
        assertThat(back.get(2).vendor()).isEqualTo(EfiVariables.GLOBAL_VARIABLE);
        assertThat(back.get(3).data()).containsExactly(1);
        // each variable starts 4-byte aligned: db = 60 + 6 + 1 bytes → KEK at 100 + 68
        assertThat(fd[100 + 68] & 0xFF).isEqualTo(0xAA);
        assertThatThrownBy(() -> OvmfVarStore.enroll(fd, vars)).hasMessageContaining("already holds db");
    }

    @Test
    void refusesWhatIsNotAnAuthenticatedVariableStore() {
        assertThatThrownBy(() -> OvmfVarStore.enroll(new byte[4096], List.of())).hasMessageContaining("not a firmware volume");
        byte[] small = emptyStore(200, 400);
        List<OvmfVarStore.Variable> big = OvmfVarStore.secureBoot(new byte[300], new byte[1], new byte[1], null, Instant.EPOCH);
        assertThatThrownBy(() -> OvmfVarStore.enroll(small, big)).hasMessageContaining("does not fit");
        byte[] unformatted = emptyStore(0x1000, 0x2000);
        unformatted[72 + 20] = 0;
        assertThatThrownBy(() -> OvmfVarStore.enroll(unformatted, List.of())).hasMessageContaining("not formatted");
    }
}
