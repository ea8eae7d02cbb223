/** OCI image layouts (image-spec 1.1): descriptors, manifests, indexes as records; atomic blob store; hostile-input reader; deterministic tar layers; registry client. */
package dev.cairn.oci;
