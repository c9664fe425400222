// Pure Kotlin/JVM: the numeric core of the app, tested against a bundle's golden vectors.
// In Gradle: ./gradlew :pipeline:test -Dygan.bundle=/path/to/bundle. Without Gradle (CI): ../run_tests.sh BUNDLE.
plugins {
    id("org.jetbrains.kotlin.jvm")
}

kotlin { jvmToolchain(17) }

dependencies {
    implementation("com.google.code.gson:gson:2.10")
    testImplementation("junit:junit:4.13.2")
}

tasks.test {
    systemProperty("ygan.bundle", System.getProperty("ygan.bundle") ?: "${rootDir}/app/src/main/assets/bundle")
}
