/**
 * The JSON form of the vl2 API's records, one place for the HTTP API and the shell's {@code -j} output, so the two
 * never disagree (Jackson trees; field names are the records' component names, ids as operators see them).
 */
@Export
@Version("1.0.0")
package org.vl2.json;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
