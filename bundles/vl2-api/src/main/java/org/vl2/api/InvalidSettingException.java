package org.vl2.api;

/**
 * A setting an operator gave is invalid; nothing was changed. {@link #setting()} names it (a configuration
 * property such as {@code ipv4.pool}), so that a shell command or an HTTP answer can point at the field.
 */
public class InvalidSettingException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String setting;

    public InvalidSettingException(String setting, String message) {
        super(message);
        this.setting = setting;
    }

    /** The property at fault, e.g. {@code mtu}. */
    public String setting() {
        return setting;
    }
}
