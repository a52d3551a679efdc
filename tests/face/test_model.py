"""The bundled model, and privacy: nothing leaves the machine."""

import glob
import hashlib
import os
import shutil
import subprocess
import sys

import pytest

from symmetry.face.landmarks import BUNDLED_MODEL_SHA256, bundled_model_path, resolve_model_path

from conftest import SAMPLE_FACES


def test_bundled_model_checksum():
    data = bundled_model_path().read_bytes()
    assert len(data) == 3_758_596
    assert hashlib.sha256(data).hexdigest() == BUNDLED_MODEL_SHA256


def test_bundled_model_notice_names_origin_and_licence():
    notice = (bundled_model_path().parent / "NOTICE").read_text()
    assert "Apache License" in notice and "storage.googleapis.com" in notice


def test_model_override_by_argument_and_environment(tmp_path, monkeypatch):
    copy = tmp_path / "my_model.task"
    shutil.copy(bundled_model_path(), copy)
    assert resolve_model_path(copy) == copy
    monkeypatch.setenv("SYMMETRY_MODEL", str(copy))
    assert resolve_model_path() == copy
    monkeypatch.setenv("SYMMETRY_MODEL", str(tmp_path / "missing.task"))
    with pytest.raises(FileNotFoundError, match="SYMMETRY_MODEL"):
        resolve_model_path()


def test_mediapipe_native_library_has_no_usage_log_uploader():
    """mediapipe 1.x and the macOS 0.10.35 wheel embed Google's 'clearcut' uploader."""
    import mediapipe

    libs = glob.glob(os.path.join(os.path.dirname(mediapipe.__file__), "**", "*.so*"), recursive=True)
    libs += glob.glob(os.path.join(os.path.dirname(mediapipe.__file__), "**", "*.dylib"), recursive=True)
    libs += glob.glob(os.path.join(os.path.dirname(mediapipe.__file__), "**", "*.dll"), recursive=True)
    assert libs, "no MediaPipe native library found to inspect"
    for lib in libs:
        with open(lib, "rb") as f:
            assert b"clearcut" not in f.read(), f"{lib} contains a usage-log uploader"


def _can_unshare() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-rn", "true"], capture_output=True
    ).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _can_unshare(), reason="needs `unshare -rn` (user + network namespaces)")
def test_analyze_works_without_any_network():
    """Run analyze in a network namespace with no interfaces: any connection attempt fails."""
    code = (
        "import socket, symmetry\n"
        "try:\n"
        "    socket.create_connection(('142.250.0.1', 443), timeout=2); print('NETWORK-UP')\n"
        "except OSError: pass\n"
        f"m = symmetry.analyze({str(SAMPLE_FACES['grace_hopper'])!r})\n"
        "print(m.status, len(m.face.points))\n"
    )
    out = subprocess.run(["unshare", "-rn", sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "NETWORK-UP" not in out.stdout
    assert out.stdout.split() == ["ok", "478"]


def test_landmarks_read_from_mediapipe_c_result_equal_its_python_api(sample_rgb):
    """`Landmarker` reads MediaPipe's C result with numpy; the numbers must be exactly those of
    MediaPipe's public Python API, in IMAGE and in VIDEO mode (this breaks if a new mediapipe
    changes its C structures)."""
    import numpy as np

    from symmetry.face.landmarks import Landmarker, pose_from_matrix

    rgb = np.ascontiguousarray(sample_rgb["grace_hopper"])
    for mode in ("image", "video"):
        with Landmarker(mode=mode) as ours, Landmarker(mode=mode) as public:
            faces = ours.detect(rgb) if mode == "image" else ours.detect_for_video(rgb, 0)
            image = Landmarker._mp_image(rgb)
            result = public._task.detect(image) if mode == "image" else public._task.detect_for_video(image, 0)
        assert len(faces) == len(result.face_landmarks) == 1
        xyz = np.array([(m.x, m.y, m.z) for m in result.face_landmarks[0]])
        h, w = rgb.shape[:2]
        np.testing.assert_array_equal(faces[0].points, xyz[:, :2] * np.array([w, h]))
        np.testing.assert_array_equal(faces[0].depth, xyz[:, 2])
        assert faces[0].blendshapes == {c.category_name: c.score for c in result.face_blendshapes[0]}
        assert len(faces[0].blendshapes) == 52
        assert (faces[0].yaw_deg, faces[0].pitch_deg, faces[0].roll_deg) == pose_from_matrix(
            result.facial_transformation_matrixes[0])
