package io.coffer.rest.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import javax.ws.rs.core.MultivaluedMap;

import org.apache.cxf.jaxrs.impl.MetadataMap;
import org.apache.cxf.jaxrs.model.ClassResourceInfo;
import org.apache.cxf.jaxrs.model.OperationResourceInfo;
import org.apache.cxf.jaxrs.model.URITemplate;

/**
 * The route template of a request, for metric labels: {@code /secrets/{account}/{kind}/{id}}, never the raw path
 * (ids are names). Parameter regular expressions are dropped ({@code {id: .+}} is {@code {id}}).
 */
final class RouteTemplates {
    private RouteTemplates() {
    }

    /** @return the template of the operation JAX-RS chose: its class's path then its own */
    static String label(OperationResourceInfo ori) {
        ClassResourceInfo cri = ori.getClassResourceInfo();
        String base = cri == null || cri.getURITemplate() == null ? "" : cri.getURITemplate().getValue();
        String own = ori.getURITemplate() == null ? "/" : ori.getURITemplate().getValue();
        return normalize(join(base, own));
    }

    /**
     * The template of the operation that would answer {@code method path}, for requests answered before JAX-RS
     * matched one (a pre-matching filter's refusal, the warm secret read's fast path). Candidates are tried most
     * literal characters first, as JAX-RS ranks them.
     *
     * @param path the path below the application's root, still encoded
     * @return the template, or {@code null} when no operation matches
     */
    static String match(List<ClassResourceInfo> resources, String method, String path) {
        List<ClassResourceInfo> sorted = new ArrayList<>(resources);
        sorted.sort(Comparator.comparingInt((ClassResourceInfo c) -> literal(c.getURITemplate())).reversed());
        for (ClassResourceInfo cri : sorted) {
            MultivaluedMap<String, String> values = new MetadataMap<>();
            if (cri.getURITemplate() == null || !cri.getURITemplate().match(path, values)) {
                continue;
            }
            String rest = values.getFirst(URITemplate.FINAL_MATCH_GROUP);
            List<OperationResourceInfo> ops = new ArrayList<>(cri.getMethodDispatcher().getOperationResourceInfos());
            ops.sort(Comparator.comparingInt((OperationResourceInfo o) -> literal(o.getURITemplate())).reversed());
            for (OperationResourceInfo ori : ops) {
                if (!methodFits(ori.getHttpMethod(), method)) {
                    continue;
                }
                MultivaluedMap<String, String> own = new MetadataMap<>();
                String remainder = rest == null || rest.isEmpty() ? "/" : rest;
                URITemplate t = ori.getURITemplate() == null ? new URITemplate("/") : ori.getURITemplate();
                if (t.match(remainder, own)) {
                    String left = own.getFirst(URITemplate.FINAL_MATCH_GROUP);
                    if (left == null || left.isEmpty() || "/".equals(left)) {
                        return label(ori);
                    }
                }
            }
        }
        return null;
    }

    private static boolean methodFits(String declared, String method) {
        return declared != null && (declared.equals(method) || ("HEAD".equals(method) && "GET".equals(declared))
                || "OPTIONS".equals(method));
    }

    private static int literal(URITemplate t) {
        return t == null ? 0 : t.getLiteralChars().length();
    }

    private static String join(String base, String own) {
        String b = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        if (own.isEmpty() || "/".equals(own)) {
            return b.isEmpty() ? "/" : b;
        }
        return b + (own.startsWith("/") ? own : "/" + own);
    }

    /** @return {@code template} with each {@code {name: regex}} written {@code {name}} */
    static String normalize(String template) {
        StringBuilder out = new StringBuilder(template.length());
        int i = 0;
        while (i < template.length()) {
            char c = template.charAt(i);
            if (c != '{') {
                out.append(c);
                i++;
                continue;
            }
            int depth = 0;
            int j = i;
            for (; j < template.length(); j++) {
                char d = template.charAt(j);
                if (d == '{') {
                    depth++;
                } else if (d == '}' && --depth == 0) {
                    break;
                }
            }
            String inside = template.substring(i + 1, Math.min(j, template.length()));
            int colon = inside.indexOf(':');
            out.append('{').append((colon < 0 ? inside : inside.substring(0, colon)).trim()).append('}');
            i = j + 1;
        }
        return out.toString();
    }
}
