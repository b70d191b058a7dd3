package org.vl2.itests;

import org.junit.BeforeClass;
import org.junit.runner.RunWith;
import org.junit.runners.Suite;
import org.junit.runners.Suite.SuiteClasses;
import org.vl2.e2e.ClassTurns;

/**
 * Every Pax Exam class, in the one container they share ({@code PerSuite}, see {@link Vl2TestSupport}).
 *
 * <p>Why a suite class: Pax Exam keeps a {@code PerSuite} container up only while a runner it created has not
 * finished, and failsafe creates each class's runner just before running it, so without this class the container
 * would stop after each class and boot again for the next. A suite creates the runners of all its classes first.
 * The classes themselves are excluded from failsafe's own scan (itests/pom.xml), so they run once, here;
 * {@code -Dit.test=ForwardingIT} still runs one of them alone (in a container of its own). A new Pax Exam class goes
 * into this list and into those excludes.
 *
 * <p>The order below is not one the classes rely on: each test starts from an empty switch and puts back what it
 * changes (see {@link Vl2TestSupport}).
 */
@RunWith(Suite.class)
@SuiteClasses({SwitchFeatureIT.class, ForwardingIT.class, NetworksIT.class, MembersIT.class, HotSwapIT.class,
        RestApiIT.class})
public class SwitchSuiteIT {

    /** The container boots a Karaf: not beside an end-to-end class that runs alone ({@link ClassTurns}). */
    @BeforeClass
    public static void turn() {
        ClassTurns.share();
    }
}
