<#
.SYNOPSIS
    Build Rapport.msi on a Windows build machine: venv, bundle (PyInstaller), MSI (WiX v3), signing.

.DESCRIPTION
    Run from anywhere; paths are relative to the repository root (two levels up).
      1. creates .venv-win (Python 3.11+ from the py launcher, or -Python) and installs the
         project and PyInstaller into it;
      2. builds dist\rapport with installer\rapport.spec (onedir, no UPX, icon, version resource);
      3. harvests the bundle into a WiX fragment (installer\windows\harvest.py) and builds
         dist\Rapport-<version>-x64.msi with candle + light;
      4. signs rapport.exe, rapportctl.exe, rapport-machine-config.exe and the MSI with
         signtool when a certificate thumbprint is given (-CertThumbprint or the environment
         variable RAPPORT_SIGN_THUMBPRINT; the certificate must be in the machine or user store).

    Needs: Python 3.11+ (x64), WiX Toolset v3.11+ (candle.exe/light.exe on PATH or WIX set),
    and for signing the Windows SDK's signtool.exe on PATH.

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1
.EXAMPLE
    $env:RAPPORT_SIGN_THUMBPRINT = "0123...ABCD"; .\installer\windows\build.ps1 -TimestampUrl http://timestamp.digicert.com
#>
[CmdletBinding()]
param(
    [string]$Python = "",
    [string]$CertThumbprint = $env:RAPPORT_SIGN_THUMBPRINT,
    [string]$TimestampUrl = "http://timestamp.digicert.com",
    [switch]$SkipBundle
)

$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

$Root = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
Set-Location $Root
$Venv = Join-Path $Root ".venv-win"
$VenvPython = Join-Path $Venv "Scripts\python.exe"
$WorkDir = Join-Path $Root "build\msi"

function Invoke-Checked {
    # Native commands do not throw on a non-zero exit code; make every step fatal.
    param([string]$What, [scriptblock]$Command)
    Write-Host "==> $What"
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)" }
}

function Find-Tool {
    param([string]$Name, [string[]]$Candidates)
    $found = Get-Command $Name -ErrorAction SilentlyContinue
    if ($found) { return $found.Source }
    foreach ($candidate in $Candidates) {
        if ($candidate -and (Test-Path $candidate)) { return $candidate }
    }
    throw "$Name not found: install it or put it on PATH"
}

$started = Get-Date

# 1. Virtual environment with the project and PyInstaller.
if (-not (Test-Path $VenvPython)) {
    if ($Python) {
        Invoke-Checked "create venv with $Python" { & $Python -m venv $Venv }
    } else {
        Invoke-Checked "create venv with py -3.11" { & py -3.11 -m venv $Venv }
    }
}
Invoke-Checked "pip install project + pyinstaller" {
    & $VenvPython -m pip install --quiet --disable-pip-version-check --upgrade pip
    & $VenvPython -m pip install --quiet --disable-pip-version-check . pyinstaller
}
$Version = (& $VenvPython -c "import app; print(app.__version__)").Trim()
if ($LASTEXITCODE -ne 0 -or -not $Version) { throw "cannot read app.__version__" }

# 2. The onedir bundle.
if (-not $SkipBundle) {
    if (-not (Test-Path "resources\icons\rapport.ico")) {
        $env:QT_QPA_PLATFORM = "offscreen"
        Invoke-Checked "draw the icon" { & $VenvPython -m installer.make_icon }
        Remove-Item Env:\QT_QPA_PLATFORM
    }
    Invoke-Checked "pyinstaller installer\rapport.spec" {
        & (Join-Path $Venv "Scripts\pyinstaller.exe") --noconfirm --clean installer\rapport.spec --distpath dist --workpath build
    }
}
$Bundle = Join-Path $Root "dist\rapport"
foreach ($exe in "rapport.exe", "rapportctl.exe", "rapport-machine-config.exe") {
    if (-not (Test-Path (Join-Path $Bundle $exe))) { throw "dist\rapport\$exe missing: the bundle build failed" }
}

# 4a. Sign the programs before they go into the MSI (the MSI is signed after).
$SignTool = $null
if ($CertThumbprint) {
    $sdk = Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe" -ErrorAction SilentlyContinue |
        Sort-Object FullName -Descending | Select-Object -First 1
    $SignTool = Find-Tool "signtool.exe" @($(if ($sdk) { $sdk.FullName } else { "" }))
    $targets = @("rapport.exe", "rapportctl.exe", "rapport-machine-config.exe") | ForEach-Object { Join-Path $Bundle $_ }
    Invoke-Checked "sign the programs" {
        & $SignTool sign /sha1 $CertThumbprint /fd SHA256 /tr $TimestampUrl /td SHA256 /d "Rapport" @targets
    }
} else {
    Write-Host "==> not signing (no -CertThumbprint / RAPPORT_SIGN_THUMBPRINT)"
}

# 3. The MSI.
$WixBin = if ($env:WIX) { Join-Path $env:WIX "bin" } else { "" }
$Candle = Find-Tool "candle.exe" @((Join-Path $WixBin "candle.exe"), "${env:ProgramFiles(x86)}\WiX Toolset v3.14\bin\candle.exe", "${env:ProgramFiles(x86)}\WiX Toolset v3.11\bin\candle.exe")
$Light = Find-Tool "light.exe" @((Join-Path $WixBin "light.exe"), "${env:ProgramFiles(x86)}\WiX Toolset v3.14\bin\light.exe", "${env:ProgramFiles(x86)}\WiX Toolset v3.11\bin\light.exe")
New-Item -ItemType Directory -Force -Path $WorkDir | Out-Null
$Files = Join-Path $WorkDir "files.wxs"
Invoke-Checked "harvest the bundle" { & $VenvPython installer\windows\harvest.py $Bundle $Files }
$Defines = @("-dVersion=$Version", "-dSourceDir=$Bundle", "-dIconFile=$Root\resources\icons\rapport.ico")
Invoke-Checked "candle" {
    & $Candle -nologo -arch x64 @Defines -out "$WorkDir\" installer\windows\rapport.wxs $Files
}
$Msi = Join-Path $Root "dist\Rapport-$Version-x64.msi"
# ICE validation runs here (light needs the Windows Installer service, as on any build machine).
Invoke-Checked "light" {
    & $Light -nologo -spdb -out $Msi (Join-Path $WorkDir "rapport.wixobj") (Join-Path $WorkDir "files.wixobj")
}

# 4b. Sign the MSI.
if ($SignTool) {
    Invoke-Checked "sign the MSI" {
        & $SignTool sign /sha1 $CertThumbprint /fd SHA256 /tr $TimestampUrl /td SHA256 /d "Rapport $Version" $Msi
    }
}

$size = [math]::Round((Get-Item $Msi).Length / 1MB, 1)
$elapsed = [math]::Round(((Get-Date) - $started).TotalSeconds)
Write-Host "built $Msi ($size MB) in $elapsed s"
