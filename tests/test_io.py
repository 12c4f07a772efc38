"""gan_lightning._io: files are replaced whole or not at all."""

import pytest


def test_atomic_write_replaces_whole_or_leaves_the_old_file(tmp_path):
    from gan_lightning._io import atomic_write

    path = tmp_path / "grid.png"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path  # same folder: os.replace stays atomic
        tmp.write_text("half")
        raise RuntimeError("killed while writing")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]
    with atomic_write(path) as tmp:
        tmp.write_text("new")
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]


