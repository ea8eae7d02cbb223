package dev.cairn.erofs;

/**
 * What a tar-index layer conversion produced: the layer file as containerd's erofs differ leaves it
 * with {@code enable_tar_index} (before dm-verity), the tar-index image followed by the raw tar.
 *
 * @param index the tar-index image (512-byte blocks) at the start of the file
 * @param tarSize bytes of tar appended after the image (the whole input stream)
 * @param size the layer file's size, {@code index.size() + tarSize}
 */
public record TarIndexLayerResult(ErofsResult index, long tarSize, long size) {
}
