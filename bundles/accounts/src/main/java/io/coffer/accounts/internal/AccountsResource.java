package io.coffer.accounts.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.DELETE;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.coffer.api.authn.Accounts;
import io.coffer.api.authn.Identity;
import io.coffer.api.rest.ApiError;

/**
 * {@code GET|POST /accounts}, {@code DELETE /accounts/{id}} (conjur-api §1.6). Conjur reserves these for the admin
 * of its hidden {@code !} account; Coffer has no such account, so the roles allowed are named in configuration
 * ({@code operators}); with none named, every caller gets 403 and accounts are made with the shell command.
 */
@Component(service = Object.class, property = "coffer.jaxrs.resource=true",
        configurationPid = "io.coffer.accounts", configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = AccountsResource.Config.class)
@Path("/accounts")
@Produces(MediaType.APPLICATION_JSON)
public class AccountsResource {
    @ObjectClassDefinition(name = "Coffer accounts API", description = "Who may list, create and delete accounts")
    public @interface Config {
        @AttributeDefinition(description = "Full role ids allowed to use /accounts (comma-separated), e.g. "
                + "demo:user:admin; empty: nobody (use the shell command)")
        String operators() default "";
    }

    private final Accounts accounts;
    private volatile Set<String> operators = Set.of();

    @Activate
    public AccountsResource(@Reference Accounts accounts, Config config) {
        this.accounts = accounts;
        modified(config);
    }

    @Modified
    void modified(Config config) {
        operators = Arrays.stream(config.operators().split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .collect(Collectors.toUnmodifiableSet());
    }

    @GET
    public Response list(@Context HttpServletRequest request) {
        if (!operator(request)) {
            return Response.status(403).build();
        }
        return Response.ok(accounts.list()).build();
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response create(InputStream body, @Context HttpServletRequest request) throws IOException {
        if (!operator(request)) {
            return Response.status(403).build();
        }
        String id = param(request.getQueryString(), "id");
        if (id == null) {
            byte[] raw = body.readNBytes(4096);
            id = param(new String(raw, StandardCharsets.UTF_8), "id");
        }
        if (id == null || id.isBlank()) {
            return error(422, "argument_error", "param is missing or the value is empty: id");
        }
        try {
            String key = accounts.create(id);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("id", id);
            out.put("api_key", key);
            return Response.status(201).entity(out).build();
        } catch (IllegalArgumentException e) {
            return Response.status(422).type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(ApiError.validation("id", e.getMessage())).build();
        } catch (IllegalStateException e) {
            if (e.getMessage() != null && e.getMessage().contains("already exists")) {
                return error(409, "conflict", "Account '" + id + "' already exists");
            }
            throw e;
        }
    }

    @DELETE
    @Path("{id}")
    public Response delete(@PathParam("id") String id, @Context HttpServletRequest request) {
        if (!operator(request)) {
            return Response.status(403).build();
        }
        return accounts.delete(id) ? Response.noContent().build()
                : error(404, "not_found", "Account '" + id + "' not found");
    }

    private boolean operator(HttpServletRequest request) {
        Identity who = (Identity) request.getAttribute(ApiError.IDENTITY);
        if (who == null) {
            throw new javax.ws.rs.NotAuthorizedException("Token");
        }
        return operators.contains(who.roleId());
    }

    /** The first {@code key=} of a form-encoded string; {@code null} when absent or badly encoded. */
    static String param(String form, String key) {
        if (form == null) {
            return null;
        }
        for (String part : form.split("&")) {
            if (part.startsWith(key + "=")) {
                try {
                    return URLDecoder.decode(part.substring(key.length() + 1), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return null;
    }

    private static Response error(int status, String code, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(ApiError.of(code, message)).build();
    }
}
