"""gunicorn settings, read from the working directory: `gunicorn -b HOST:PORT wsgi:app`.

Workers and threads come from the command line (README: two workers with four
threads each suit two cores; `benchmarks/pages.py` measures that).
"""

import gc

#: Seconds a worker may spend on one request before gunicorn restarts it. The
#: default (30 s) killed long runs such as the PDFs of a whole year's invoices;
#: SQLite's busy timeout (10 s) stays well inside it.
timeout = 120


def post_worker_init(worker):
    """Keep the loaded application out of the garbage collector's full collections.

    Modules, templates, the URL map and Babel's data live as long as the worker;
    a full collection scanned all of them (~150,000 objects, about 100 ms on two
    busy cores) and stalled whichever request triggered it. Frozen, they are
    never scanned again; what requests create is collected as before.
    """
    gc.freeze()
