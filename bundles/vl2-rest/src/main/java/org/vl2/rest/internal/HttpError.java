package org.vl2.rest.internal;

/**
 * An answer other than success, with the status and the words the client gets as JSON ({@code error}, and
 * {@code field} when one input is at fault). Thrown by resources; the servlet writes it.
 */
final class HttpError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    final int status;
    final String field;

    HttpError(int status, String message) {
        this(status, message, null);
    }

    HttpError(int status, String message, String field) {
        super(message, null, false, false); // an answer, not a failure: no stack trace
        this.status = status;
        this.field = field;
    }

    static HttpError notFound(String what) {
        return new HttpError(404, what);
    }

    static HttpError badRequest(String field, String message) {
        return new HttpError(400, message, field);
    }
}
