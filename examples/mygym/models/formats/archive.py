"""Zip archives from untrusted hands, read in memory and bounded.

Nothing is extracted to disk. Before a member is read, :func:`open_zip`
has checked every name (no absolute path, no ``..``, no backslash: a name
that would climb out of a folder is refused even though nothing is
written) and every size (at most :data:`MAX_MEMBER` bytes expanded, at
most :data:`MAX_RATIO` times its compressed size: a zip bomb is refused
before it is expanded).
"""
import zipfile

from models.formats.arrays import ImportFailure

MAX_MEMBER = 512 << 20
MAX_RATIO = 200


def _safe_name(name):
    parts = name.split('/')
    return not (name.startswith('/') or '\\' in name or '..' in parts
                or ':' in parts[0])


def open_zip(path, what):
    """A :class:`zipfile.ZipFile` of ``path`` whose members passed the
    checks above; ``what`` names the file for the error line."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise ImportFailure('{} is not a readable zip archive ({})'.format(
            what, e))
    for info in archive.infolist():
        if not _safe_name(info.filename):
            archive.close()
            raise ImportFailure('{}: member name {!r} leaves the archive '
                                '(refused)'.format(what, info.filename))
        if info.file_size > MAX_MEMBER or (
                info.file_size > (1 << 20)
                and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
            archive.close()
            raise ImportFailure(
                '{}: member {} expands to {:,} bytes from {:,} (refused: '
                'beyond a sane bound)'.format(what, info.filename,
                                              info.file_size,
                                              info.compress_size))
    return archive


def zip_names(path):
    """The member names of the zip archive ``path`` (nothing read but its
    directory), or an empty set for a file that is not one (for a
    format's ``recognise``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return set(archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return set()


def read_member(archive, name, what):
    """The bytes of member ``name``; a missing or damaged one is refused
    in one line."""
    try:
        return archive.read(name)
    except KeyError:
        raise ImportFailure('{} has no member {} (the archive holds {})'
                            .format(what, name,
                                    ', '.join(archive.namelist()[:8])))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise ImportFailure('{}: member {} is damaged or truncated ({})'
                            .format(what, name, e))
