/** Shapes shared by every bundle's JAX-RS resources (without JAX-RS types: bodies are plain maps). */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.3.0")
package io.coffer.api.rest;
