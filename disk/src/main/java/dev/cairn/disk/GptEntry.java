package dev.cairn.disk;

import dev.cairn.io.LittleEndian;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.UUID;

/**
 * One GPT partition entry (UEFI 2.10 §5.3.3; ddi-sysext.md §3.1), 128 bytes, little-endian.
 *
 * <pre>
 * 0x00 16  PartitionTypeGUID     mixed-endian; all zero = unused entry
 * 0x10 16  UniquePartitionGUID   mixed-endian
 * 0x20  8  StartingLBA
 * 0x28  8  EndingLBA             inclusive
 * 0x30  8  Attributes
 * 0x38 72  PartitionName         UTF-16LE, 36 code units, zero padded
 * </pre>
 *
 * @param number 1-based index in the entry array (not stored; 0 when not known)
 */
public record GptEntry(int number, UUID type, UUID uuid, long firstLba, long lastLba, long attributes, String name) {
    public static final int SIZE = 128;
    static final int OFF_TYPE = 0x00;
    static final int OFF_UUID = 0x10;
    static final int OFF_FIRST_LBA = 0x20;
    static final int OFF_LAST_LBA = 0x28;
    static final int OFF_ATTRIBUTES = 0x30;
    static final int OFF_NAME = 0x38;
    static final int NAME_UNITS = 36;

    public GptEntry {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(name, "name");
    }

    /** The entry libfdisk writes for a placed partition. */
    static GptEntry of(PlacedPartition p) {
        PartitionSpec s = p.spec();
        return new GptEntry(p.number(), s.type(), s.uuid(), p.firstLba(), p.lastLba(), s.attributes(), s.label());
    }

    /** The DPS type, if this entry's type GUID is one {@link DpsType} lists. */
    public java.util.Optional<DpsType> dpsType() {
        return DpsType.of(type);
    }

    /** Number of 512-byte (or whatever the table's) sectors. */
    public long sectors() {
        return lastLba - firstLba + 1;
    }

    public byte[] encode() {
        if (name.length() > NAME_UNITS) {
            throw new IllegalArgumentException("partition name longer than 36 UTF-16 code units: " + name);
        }
        byte[] b = new byte[SIZE];
        Guids.putMixedEndian(b, OFF_TYPE, type);
        Guids.putMixedEndian(b, OFF_UUID, uuid);
        LittleEndian.putU64(b, OFF_FIRST_LBA, firstLba);
        LittleEndian.putU64(b, OFF_LAST_LBA, lastLba);
        LittleEndian.putU64(b, OFF_ATTRIBUTES, attributes);
        for (int i = 0; i < name.length(); i++) {
            LittleEndian.putU16(b, OFF_NAME + 2 * i, name.charAt(i));
        }
        return b;
    }

    /** Whether the entry at {@code off} is unused (all-zero type GUID). */
    static boolean unused(byte[] array, int off) {
        for (int i = 0; i < 16; i++) {
            if (array[off + OFF_TYPE + i] != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Decodes the entry at {@code off} of an entry array. The name ends at the first NUL code unit;
     * unpaired surrogates become U+FFFD. Values are not judged here.
     */
    static GptEntry decode(byte[] array, int off, int number) {
        UUID type = Guids.getMixedEndian(array, off + OFF_TYPE);
        UUID uuid = Guids.getMixedEndian(array, off + OFF_UUID);
        long first = le64(array, off + OFF_FIRST_LBA);
        long last = le64(array, off + OFF_LAST_LBA);
        long attrs = le64(array, off + OFF_ATTRIBUTES);
        int units = 0;
        while (units < NAME_UNITS && (array[off + OFF_NAME + 2 * units] != 0 || array[off + OFF_NAME + 2 * units + 1] != 0)) {
            units++;
        }
        String name;
        try {
            CharBuffer cb = StandardCharsets.UTF_16LE.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(array, off + OFF_NAME, 2 * units));
            name = cb.toString();
        } catch (CharacterCodingException e) {
            name = "";
        }
        return new GptEntry(number, type, uuid, first, last, attrs, name);
    }

    private static long le64(byte[] b, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xFFL);
        }
        return v;
    }
}
