/*
 * The XS platform of the host program: Linux, XS's default allocation, module and parse
 * functions, plus a promise-job flag the event loop in main.c services (XS's default
 * fxQueuePromiseJobs refuses promises).
 */

#ifndef HOST_PLATFORM_H
#define HOST_PLATFORM_H

#undef mxLittleEndian
#define mxLittleEndian 1
#undef mxLinux
#define mxLinux 1
#define mxExport extern
#define mxImport extern
#define XS_FUNCTION_NORETURN __attribute__((noreturn))

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <unistd.h>

#define mxUseGCCAtomics 1
#define mxUsePOSIXThreads 1

#define mxMachinePlatform \
	int promiseJobs; \
	void* waiterCondition; \
	void* waiterData; \
	void* waiterLink;

#define mxUseDefaultMachinePlatform 1
#define mxUseDefaultBuildKeys 1
#define mxUseDefaultChunkAllocation 1
#define mxUseDefaultSlotAllocation 1
#define mxUseDefaultFindModule 1
#define mxUseDefaultLoadModule 1
#define mxUseDefaultParseScript 1
#define mxUseDefaultSharedChunks 1
#define mxUseDefaultAbort 1
#define mxUseDefaultDebug 1

#endif
