package dev.cairn.pipeline.disk;

import dev.cairn.disk.GptReader;
import dev.cairn.disk.GptTable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Opening a disk image as raw bytes: a fixed VHD's footer (the last 512 bytes, "conectix") is not part of the disk. */
public final class DiskImages {
    private DiskImages() {
    }

    /** The raw disk's size: the file's, less a fixed-VHD footer when there is one. */
    public static long rawSize(FileChannel ch) throws IOException {
        long size = ch.size();
        if (size >= 512 + 1024) {
            ByteBuffer b = ByteBuffer.allocate(8);
            ch.read(b, size - 512);
            if (new String(b.array(), StandardCharsets.US_ASCII).equals("conectix")) {
                return size - 512;
            }
        }
        return size;
    }

    /** The GPT of the disk in {@code image} (raw or fixed VHD). */
    public static GptTable readGpt(Path image) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            return GptReader.read(ch, rawSize(ch));
        }
    }
}
