/**
 * Test doubles of the vl2 contracts, shipped as vl2-api's test-jar ({@code <type>test-jar</type>}, scope test) so
 * that every module tests against the same fakes instead of a copy of its own (as ONOS ships
 * {@code HostServiceAdapter} in its API's tests): a transport ({@link org.vl2.api.test.FakeTransport}), a MAC table
 * ({@link org.vl2.api.test.FakeMacTable}), a switch as transports see it
 * ({@link org.vl2.api.test.RecordingFrameReceiver}), the switch's read and admin services and the agent's status
 * service as commands see them, and Ethernet frames ({@link org.vl2.api.test.TestFrames}). No OSGi, no sockets.
 */
package org.vl2.api.test;
