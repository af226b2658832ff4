"""Model conversion. The build and the command line use :mod:`.conversion` (standard
library only); the heavy tools run in the converter environment (:mod:`.environment`),
one worker process per step (:mod:`.runner`, :mod:`.worker`, :mod:`.stages`)."""
