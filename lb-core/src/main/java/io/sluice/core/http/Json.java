package io.sluice.core.http;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/** The one ObjectMapper of the admin API, and string quoting for hand-built JSON. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private Json() {
    }

    public static String quote(String s) {
        return '"' + new String(JsonStringEncoder.getInstance().quoteAsString(s == null ? "" : s)) + '"';
    }
}
