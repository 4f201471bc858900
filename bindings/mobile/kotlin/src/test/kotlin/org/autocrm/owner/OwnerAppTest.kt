package org.autocrm.owner

import java.io.File
import java.nio.file.Files
import java.time.LocalDateTime
import java.time.ZoneOffset
import java.util.concurrent.CountDownLatch
import java.util.concurrent.atomic.AtomicReference
import kotlin.test.AfterTest
import kotlin.test.BeforeTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * The owner app's binding on the JVM, against the built library: every call, every error with
 * its code, a redemption retried with the same key, objects closed with `use`, 10,000 calls
 * without growing memory or handles, and two threads on one OwnerApp.
 */
class OwnerAppTest {
    private lateinit var dir: File
    private lateinit var path: String
    private lateinit var demo: DemoFile

    @BeforeTest
    fun setUp() {
        dir = Files.createTempDirectory("autocrm-owner").toFile()
        path = File(dir, "club.redb").absolutePath
        demo = demoFile(path)
    }

    @AfterTest
    fun tearDown() {
        dir.deleteRecursively()
    }

    /** Now on the phone, in the handle's zone (UTC+08:00), as the redemption's time. */
    private fun now(): String = LocalDateTime.now(ZoneOffset.ofHours(8)).withNano(0).toString()

    private fun app(): OwnerApp = OwnerApp.open(path, demo.ownerId)

    @Test
    fun readmeSnippet() {
        val customerId = demo.ownerId
        // README:begin
        OwnerApp.open(path, customerId).use { app ->
            val me = app.profile()
            val brand = app.points(withinDays = 30u).first { it.dealerId == null }
            println("${me.name}: ${brand.points} points, tier ${app.tier().tier}")
            for (r in app.reminders(days = 90u)) println("${r.due} ${r.kind}: ${r.detail}")
            app.setConsent("app", true)
            val key = java.util.UUID.randomUUID().toString() // generated when the owner confirms
            val at = java.time.LocalDateTime.now(java.time.ZoneOffset.ofHours(8)).withNano(0).toString()
            app.redeem(dealerId = null, points = 100, item = "car wash", key = key, at = at)
        }
        // README:end
    }

    @Test
    fun everyCallAnswersForTheOwner() {
        app().use { app ->
            assertEquals(demo.ownerId, app.customerId())

            val me = app.profile()
            assertEquals(demo.ownerId, me.customerId)
            assertEquals("person", me.kind)
            assertEquals(listOf("13812345678"), me.phones)
            assertEquals("1990-01-01", me.birthDate)
            assertTrue(me.nationalId!!.contains("*"), me.nationalId)
            assertTrue("national_id" in me.masked)

            val cars = app.vehicles()
            assertEquals(1, cars.size)
            val car = cars[0]
            assertEquals(demo.vehicleId, car.vehicleId)
            assertNotNull(car.warrantyEnd)
            assertNotNull(car.insuranceExpiry)
            assertNotNull(car.inspectionDue)
            assertNull(car.ownedTo)

            // Paged history: 4 service visits in pages of 3.
            val first = app.history(null, 3u)
            assertEquals(3, first.items.size)
            assertTrue(first.items.all { it.kind == "service_visit" && it.dealerId == demo.dealerId })
            val second = app.history(first.next!!, 3u)
            assertEquals(1, second.items.size)
            assertNull(second.next)
            assertEquals(4, (first.items + second.items).map { it.touchpointId }.toSet().size)

            val wallets = app.points(800u)
            val brand = wallets.single { it.dealerId == null }
            assertEquals(demo.ownerPoints, brand.points)
            assertEquals(brand.points, brand.spendable)
            assertTrue(brand.expiring.isNotEmpty())
            assertTrue(brand.expiring.sumOf { it.points } <= brand.points)
            assertTrue(app.points(0u).single().expiring.isEmpty())

            val tier = app.tier()
            assertTrue(tier.tier in setOf("normal", "silver", "gold", "diamond", "vip"))
            if (tier.nextTier != null) {
                assertTrue(
                    listOf(tier.missingVehicles, tier.missingServiceVisits, tier.missingTotalSpendFen,
                        tier.missingSingleTicketFen, tier.missingPoints).any { it != null }
                )
            }
            val benefits = app.benefits()
            assertTrue(benefits.labourDiscountPct <= 100u)

            // Care reminders within 90 days; insurance renewal is marketing: only with consent.
            val kinds = app.reminders(90u).map { it.kind }
            assertTrue("annual_inspection" in kinds, kinds.toString())
            assertTrue("warranty_expiry" in kinds, kinds.toString())
            assertTrue("insurance_renewal" !in kinds, kinds.toString())

            val consents = app.consents()
            assertEquals(6, consents.size)
            assertTrue(consents.none { it.granted })
            for (c in consents) app.setConsent(c.channel, true)
            assertTrue("insurance_renewal" in app.reminders(90u).map { it.kind })
            app.setConsent("sms", false)
            assertEquals(false, app.consents().single { it.channel == "sms" }.granted)

            app.updateContact(ContactChange(phones = null, province = null, city = "苏州", address = null))
            assertEquals("苏州", app.profile().city)

            val lead = app.referFriend(FriendReferral("赵六", "13700002222", demo.dealerCode, "ID.4", "ref-1"))
            assertEquals(lead, app.referFriend(FriendReferral("赵六", "13700002222", demo.dealerCode, "ID.4", "ref-1")))
            app.flush()
        }
    }

    @Test
    fun changesListWhatChangedInMyDataOnly() {
        app().use { app ->
            val start = app.changes(0u, 100u)
            assertTrue(start.changes.isEmpty())
            assertEquals(start.last, start.next)
            app.setConsent("sms", false)
            app.redeem(null, 100, "car wash", "changes-1", now())
            val page = app.changes(start.next, 100u)
            val kinds = page.changes.map { it.entity }.toSet()
            assertTrue("consents" in kinds, kinds.toString())
            assertTrue("posting" in kinds, kinds.toString())
            assertEquals(demo.ownerId, page.changes.single { it.entity == "consents" }.recordId)
            assertEquals(page.last, page.next)
        }
        // Another owner's change is not in my feed.
        OwnerApp.open(path, demo.otherOwnerId).use { it.setConsent("sms", false) }
        app().use { app ->
            val mine = app.changes(0u, 100u).changes
            assertEquals(1, mine.count { it.entity == "consents" })
        }
    }

    @Test
    fun aRedemptionRetriedWithTheSameKeySpendsOnce() {
        app().use { app ->
            val before = app.points(0u).single().points
            val at = now()
            val posting = app.redeem(null, 200, "car wash", "phone-key-1", at)
            // The answer was lost: the phone retries with the same key and time.
            repeat(3) { assertEquals(posting, app.redeem(null, 200, "car wash", "phone-key-1", at)) }
            assertEquals(before - 200, app.points(0u).single().points)
            val e = assertFailsWith<OwnerException.IdempotencyConflict> {
                app.redeem(null, 300, "car wash", "phone-key-1", at)
            }
            assertEquals("idempotency_conflict", e.code)
            assertEquals(before - 200, app.points(0u).single().points)
        }
    }

    @Test
    fun everyErrorComesAsItsExceptionWithItsCode() {
        val unknown = assertFailsWith<OwnerException.UnknownScope> { OwnerApp.open(path, 999_999u) }
        assertEquals("unknown_scope", unknown.code)
        assertTrue(unknown.message!!.contains("unknown_scope"))

        val exists = assertFailsWith<OwnerException.Validation> { demoFile(path) }
        assertEquals("validation.not_allowed", exists.code)

        val app = app()
        val busy = assertFailsWith<OwnerException.Storage> { OwnerApp.open(path, demo.ownerId) }
        assertEquals("already_open", busy.code)

        val tooMuch = assertFailsWith<OwnerException.InsufficientPoints> {
            app.redeem(null, 1_000_000, "a car", "k-big", now())
        }
        assertEquals("insufficient_points", tooMuch.code)

        val badChannel = assertFailsWith<OwnerException.Validation> { app.setConsent("pigeon", true) }
        assertEquals("validation.not_allowed", badChannel.code)

        val badPhone = assertFailsWith<OwnerException.Validation> {
            app.updateContact(ContactChange(listOf("123"), null, null, null))
        }
        assertTrue(badPhone.code.startsWith("validation."), badPhone.code)

        val badTime = assertFailsWith<OwnerException.Validation> { app.redeem(null, 1, "x", "k-t", "yesterday") }
        assertEquals("validation.date_implausible", badTime.code)

        val badWindow = assertFailsWith<OwnerException.Validation> { app.reminders(10_000u) }
        assertEquals("validation.out_of_range", badWindow.code)

        val noDealer = assertFailsWith<OwnerException.NotFound> {
            app.referFriend(FriendReferral("赵六", "13700002222", "NOPE", "ID.4", "ref-x"))
        }
        assertEquals("not_found", noDealer.code)

        app.closeFile()
        val closed = assertFailsWith<OwnerException.InvalidOperation> { app.profile() }
        assertEquals("invalid_operation.database_closed", closed.code)
        app.closeFile() // closing again does nothing
        app.close()
    }

    @Test
    fun anotherOwnerIsNotVisible() {
        OwnerApp.open(path, demo.otherOwnerId).use { other ->
            assertEquals(demo.otherOwnerId, other.profile().customerId)
            assertEquals("Tiguan", other.vehicles().single().model)
            assertTrue(other.history(null, 10u).items.isEmpty())
            other.redeem(null, 100, "wash", "other-1", now())
        }
        app().use { app -> assertEquals(demo.ownerPoints, app.points(0u).single().points) }
    }

    @Test
    fun useClosesTheHandleAndReleasesTheFile() {
        val fds = openFiles()
        repeat(200) { i ->
            // Each `use` destroys the object; the file is released, so the next open succeeds.
            OwnerApp.open(path, demo.ownerId).use { assertEquals(demo.ownerId, it.profile().customerId) }
            if (i == 0) assertTrue(openFiles() <= fds + 1)
        }
        assertTrue(openFiles() <= fds + 1, "file descriptors leaked: ${openFiles()} > $fds + 1")
        val app = app()
        app.close()
        assertFailsWith<IllegalStateException> { app.profile() }
    }

    @Test
    fun tensOfThousandsOfCallsDoNotGrowMemory() {
        app().use { app ->
            fun round(n: Int) {
                repeat(n) { i ->
                    when (i % 4) {
                        0 -> app.profile()
                        1 -> app.points(30u)
                        2 -> app.history(null, 5u)
                        else -> app.consents()
                    }
                }
            }
            // Warm up: the JIT, the first audit batches, and the page cache, which fills up to
            // its 8 MiB (CACHE_BYTES) as the audit trail grows: about 60,000 calls.
            round(60_000)
            app.flush()
            val heap0 = usedHeap() // collects garbage first: JNA frees native buffers then
            // Three rounds of 10,000 calls. A leak grows the resident size in every round (1 KB
            // per call: 10 MB a round); the JIT or the allocator may grow it once. So the
            // smallest growth of a round must stay under 3 MB, and all three under 24 MB.
            var rss = rssKb()
            val growth = mutableListOf<Long>()
            repeat(3) {
                round(10_000)
                app.flush()
                usedHeap()
                val now = rssKb()
                growth.add(now - rss)
                rss = now
            }
            val heap1 = usedHeap()
            println("3 x 10,000 calls: RSS growth per round $growth kB, heap $heap0 -> $heap1 bytes")
            assertTrue(growth.min() < 3 * 1024, "RSS grew in every round: $growth kB")
            assertTrue(growth.sum() < 24 * 1024, "RSS grew by ${growth.sum()} kB")
            assertTrue(heap1 - heap0 < 4L * 1024 * 1024, "heap grew from $heap0 to $heap1")
        }
    }

    @Test
    fun twoThreadsShareOneOwnerApp() {
        app().use { app ->
            val before = app.points(0u).single().points
            val failure = AtomicReference<Throwable?>(null)
            val start = CountDownLatch(1)
            val writer = Thread {
                try {
                    start.await()
                    repeat(50) { i -> app.redeem(null, 1, "pin", "thread-$i", now()) }
                } catch (t: Throwable) {
                    failure.compareAndSet(null, t)
                }
            }
            val reader = Thread {
                try {
                    start.await()
                    repeat(500) {
                        assertEquals(demo.ownerId, app.profile().customerId)
                        app.points(30u)
                    }
                } catch (t: Throwable) {
                    failure.compareAndSet(null, t)
                }
            }
            writer.start(); reader.start(); start.countDown()
            writer.join(); reader.join()
            failure.get()?.let { throw it }
            assertEquals(before - 50, app.points(0u).single().points)
        }
    }

    private fun rssKb(): Long =
        File("/proc/self/status").readLines().first { it.startsWith("VmRSS:") }
            .split(Regex("\\s+"))[1].toLong()

    private fun usedHeap(): Long {
        val rt = Runtime.getRuntime()
        repeat(3) { System.gc(); Thread.sleep(50) }
        return rt.totalMemory() - rt.freeMemory()
    }

    private fun openFiles(): Int = File("/proc/self/fd").list()!!.size
}
