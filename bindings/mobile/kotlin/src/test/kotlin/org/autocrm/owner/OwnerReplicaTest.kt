package org.autocrm.owner

import java.io.File
import java.nio.file.Files
import kotlin.test.AfterTest
import kotlin.test.BeforeTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * The phone's file as an owner replica of HQ, on the JVM: a fresh file made the replica, its
 * standing, the bytes to upload, and refusals with core's codes. (No HQ file can be made from
 * Kotlin: the round trip with HQ is the Rust test `sync::tests` in this crate.)
 */
class OwnerReplicaTest {
    private lateinit var dir: File

    @BeforeTest
    fun setUp() {
        dir = Files.createTempDirectory("autocrm-replica").toFile()
    }

    @AfterTest
    fun tearDown() {
        dir.deleteRecursively()
    }

    @Test
    fun aFreshFileBecomesTheReplicaAndWaitsForHq() {
        val path = File(dir, "phone.redb").absolutePath
        OwnerReplica.open(path, "phone-1", 42uL).use { phone ->
            val s = phone.syncStatus()
            assertEquals("phone-1", s.name)
            assertEquals("owner:42", s.scope)
            assertEquals(0uL, s.pending)
            assertEquals(0uL, s.pendingSensitive)
            assertFalse(s.copied)
            val up: ByteArray = phone.syncPush()
            assertTrue(up.isNotEmpty())
            assertNull(phone.customerId())

            val early = assertFailsWith<OwnerException.UnknownScope> { phone.app() }
            assertEquals("unknown_scope", early.code)
            val garbage = assertFailsWith<OwnerException.InvalidOperation> {
                phone.syncPull("not a batch".toByteArray())
            }
            assertEquals("invalid_operation.sync_batch_unreadable", garbage.code)
            // Its own upload is no answer from HQ.
            val mismatch = assertFailsWith<OwnerException.InvalidOperation> { phone.syncPull(up) }
            assertEquals("invalid_operation.sync_batch_mismatch", mismatch.code)
            phone.closeFile()
            val closed = assertFailsWith<OwnerException.InvalidOperation> { phone.syncStatus() }
            assertEquals("invalid_operation.database_closed", closed.code)
        }
        // Opening the same replica again just opens it; another name is refused.
        OwnerReplica.open(path, "phone-1", 42uL).use { assertEquals("phone-1", it.syncStatus().name) }
        val other = assertFailsWith<OwnerException.InvalidOperation> { OwnerReplica.open(path, "phone-2", 42uL) }
        assertEquals("invalid_operation.replica_not_empty", other.code)
    }

    @Test
    fun aClubFileIsNoReplica() {
        val path = File(dir, "club.redb").absolutePath
        val demo = demoFile(path)
        OwnerApp.open(path, demo.ownerId).use { app ->
            val e = assertFailsWith<OwnerException.InvalidOperation> { app.syncStatus() }
            assertEquals("invalid_operation.not_a_replica", e.code)
            val p = assertFailsWith<OwnerException.InvalidOperation> { app.syncPush() }
            assertEquals("invalid_operation.not_a_replica", p.code)
        }
        val e = assertFailsWith<OwnerException.InvalidOperation> { OwnerReplica.open(path, "phone-1", demo.ownerId) }
        assertEquals("invalid_operation.replica_not_empty", e.code)
        // "hq" names HQ's own records in a replica: not a replica's name.
        val bad = assertFailsWith<OwnerException.Validation> {
            OwnerReplica.open(File(dir, "x.redb").absolutePath, "hq", 42uL)
        }
        assertEquals("validation.not_allowed", bad.code)
    }
}
