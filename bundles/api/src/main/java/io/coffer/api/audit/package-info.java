/**
 * Audit: every action a node serves becomes one {@link io.coffer.api.audit.AuditEvent} handed to the node's
 * {@link io.coffer.api.audit.Audit} service (conjur-api §6).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.3.0")
package io.coffer.api.audit;
