@rem Gradle wrapper launcher for Windows: runs gradle\wrapper\gradle-wrapper.jar, which downloads the
@rem Gradle named in gradle\wrapper\gradle-wrapper.properties (checked against its sha256) and runs it.
@echo off
setlocal
set APP_HOME=%~dp0
if defined JAVA_HOME (set JAVA_EXE=%JAVA_HOME%\bin\java.exe) else (set JAVA_EXE=java.exe)
"%JAVA_EXE%" -version >NUL 2>&1
if errorlevel 1 (
  echo gradlew: error: no Java found: set JAVA_HOME to a JDK 17 or put java on the PATH 1>&2
  exit /b 2
)
"%JAVA_EXE%" %JAVA_OPTS% %GRADLE_OPTS% "-Dorg.gradle.appname=gradlew" -classpath "%APP_HOME%gradle\wrapper\gradle-wrapper.jar" org.gradle.wrapper.GradleWrapperMain %*
exit /b %ERRORLEVEL%
