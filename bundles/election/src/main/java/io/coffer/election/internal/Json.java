package io.coffer.election.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The flat JSON objects election keeps in etcd (member and leader keys): string, number, boolean and null values
 * only. Small on purpose: no JSON library has to be wired into this bundle for it.
 */
final class Json {
    private Json() {
    }

    static String write(Map<String, ?> map) {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, ?> e : map.entrySet()) {
            if (b.length() > 1) {
                b.append(',');
            }
            string(b, e.getKey());
            b.append(':');
            Object v = e.getValue();
            if (v == null || v instanceof Boolean || v instanceof Number) {
                b.append(v);
            } else {
                string(b, v.toString());
            }
        }
        return b.append('}').toString();
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        b.append('"');
    }

    /**
     * @return the object's members; numbers as {@link Long} (or {@link Double} with a fraction or exponent)
     * @throws IllegalArgumentException when the text is not a flat JSON object
     */
    static Map<String, Object> read(String text) {
        Parser p = new Parser(text);
        Map<String, Object> m = new LinkedHashMap<>();
        p.skip();
        p.expect('{');
        p.skip();
        if (p.peek() == '}') {
            p.pos++;
            return m;
        }
        while (true) {
            p.skip();
            String key = p.string();
            p.skip();
            p.expect(':');
            p.skip();
            m.put(key, p.value());
            p.skip();
            char c = p.next();
            if (c == '}') {
                return m;
            }
            if (c != ',') {
                throw new IllegalArgumentException("expected ',' or '}' at " + (p.pos - 1));
            }
        }
    }

    private static final class Parser {
        final String s;
        int pos;

        Parser(String s) {
            this.s = s;
        }

        char peek() {
            if (pos >= s.length()) {
                throw new IllegalArgumentException("unexpected end of JSON");
            }
            return s.charAt(pos);
        }

        char next() {
            char c = peek();
            pos++;
            return c;
        }

        void skip() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        void expect(char c) {
            if (next() != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + (pos - 1));
            }
        }

        String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') {
                    return b.toString();
                }
                if (c == '\\') {
                    char e = next();
                    switch (e) {
                        case 'u':
                            b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                            pos += 4;
                            break;
                        case 'n':
                            b.append('\n');
                            break;
                        case 't':
                            b.append('\t');
                            break;
                        case 'r':
                            b.append('\r');
                            break;
                        case 'b':
                            b.append('\b');
                            break;
                        case 'f':
                            b.append('\f');
                            break;
                        default:
                            b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
        }

        Object value() {
            char c = peek();
            if (c == '"') {
                return string();
            }
            int start = pos;
            while (pos < s.length() && ",}] \t\r\n".indexOf(s.charAt(pos)) < 0) {
                pos++;
            }
            String token = s.substring(start, pos);
            switch (token) {
                case "true":
                    return Boolean.TRUE;
                case "false":
                    return Boolean.FALSE;
                case "null":
                    return null;
                default:
                    try {
                        return token.matches("-?[0-9]+") ? (Object) Long.valueOf(token) : Double.valueOf(token);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("not a JSON value: " + token);
                    }
            }
        }
    }
}
