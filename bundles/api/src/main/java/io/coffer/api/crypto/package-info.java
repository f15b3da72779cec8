/**
 * Encryption at rest (architecture §8): the cluster root key wraps data-key versions; data keys seal secret values,
 * API keys, password hashes and signing keys with AES-256-GCM, the AAD binding each ciphertext to what it belongs to.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package io.coffer.api.crypto;
