/*
 * The host program's machine, sized and frozen as the firmware's is on the ESP32.
 *
 * On the device, Moddable's linker (xsl) runs the bodies of the preloaded modules at build
 * time and puts what they made, and every key the code names, in flash. It freezes functions
 * and their prototypes, the built-ins' prototypes, and makes the Maps, Sets, buffers and
 * typed arrays it preloaded read-only (xs/tools/xslSlot.c, fxPrepareHeap). The app's machine
 * then starts with the manifest's creation sizes in RAM: `chunk` and `heap` for what it
 * allocates, `keys` for the keys it makes at run time, which cannot grow when their
 * increment is 0.
 *
 * Here it is one machine. The script's top level is the preloaded part; it leaves the rest,
 * what runs at boot on the device, in the global __main. hostPreloaded() then freezes as xsl
 * does, sets the key table to the keys made so far plus creation.keys, and gives the machine
 * creation.chunk and creation.heap beyond what the preloaded part holds, with their increments,
 * and creation.stack below the machine's roots (the preloaded part runs on a deeper stack, as
 * xsl's).
 * The memory report (SIGUSR1) counts from that point.
 */

#include "xsAll.h"
#include "xsmc.h"

#include "preload.h"

extern void fxGrowSlots(txMachine *the, txSize count);

/* Counted from the end of the preload: what the device's machine holds in RAM. */
typedef struct {
	xsIntegerValue keys, keyLimit, slots, chunks;
	xsIntegerValue buffers; /* of the chunk bytes, those of ArrayBuffers' data */
	xsIntegerValue preloadedKeys, preloadedSlots, preloadedChunks;
	xsIntegerValue slotSize;
} HostMemory;

static xsIntegerValue gPreloadedSlots, gPreloadedChunks, gPreloadedKeys, gPreloadedBuffers;

/* NETSTACK_CREATION: chunk, chunk increment, heap, heap increment, stack, keys, key increment, name modulo, symbol modulo. */
int hostCreation(xsCreation *creation)
{
	const char *text = getenv("NETSTACK_CREATION");
	int n[9];

	if (!text || (sscanf(text, "%d,%d,%d,%d,%d,%d,%d,%d,%d", &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6], &n[7], &n[8]) != 9))
		return 0;
	creation->initialChunkSize = n[0];
	creation->incrementalChunkSize = n[1];
	creation->initialHeapCount = n[2];
	creation->incrementalHeapCount = n[3];
	creation->stackCount = n[4];
	creation->initialKeyCount = n[5];
	creation->incrementalKeyCount = n[6];
	creation->nameModulo = n[7];
	creation->symbolModulo = n[8];
	return 1;
}

static int isFunction(txSlot *instance)
{
	txSlot *internal = instance->next;
	return internal && (internal->flag & XS_INTERNAL_FLAG) &&
		((internal->kind == XS_CALLBACK_KIND) || (internal->kind == XS_CALLBACK_X_KIND) || (internal->kind == XS_CODE_KIND) || (internal->kind == XS_CODE_X_KIND));
}

/* Object.freeze, in flags: no property may change or go, none may be added. */
static void freeze(txSlot *instance)
{
	txSlot *property;
	for (property = instance->next; property; property = property->next) {
		if (property->kind != XS_ACCESSOR_KIND)
			property->flag |= XS_DONT_SET_FLAG;
		property->flag |= XS_DONT_DELETE_FLAG;
	}
	instance->flag |= XS_DONT_PATCH_FLAG;
}

static int frozen(txMachine *the, txSlot *instance)
{
	txSlot *property;
	if (!(instance->flag & XS_DONT_PATCH_FLAG))
		return 0;
	for (property = instance->next; property; property = property->next) {
		if (property->kind == XS_ARRAY_KIND) {
			txSlot *item = property->value.array.address;
			txIndex length = fxGetIndexSize(the, property);
			for (; length; length--, item++)
				if (((item->kind != XS_ACCESSOR_KIND) && !(item->flag & XS_DONT_SET_FLAG)) || !(item->flag & XS_DONT_DELETE_FLAG))
					return 0;
		}
		else if (!(property->flag & XS_INTERNAL_FLAG)) {
			if (((property->kind != XS_ACCESSOR_KIND) && !(property->flag & XS_DONT_SET_FLAG)) || !(property->flag & XS_DONT_DELETE_FLAG))
				return 0;
		}
	}
	return 1;
}

/* A frozen instance's internal state becomes read-only too: a Map's entries, a buffer's bytes, private fields. */
static void petrify(txSlot *instance)
{
	txSlot *property, *field;
	for (property = instance->next; property && (property->flag & XS_INTERNAL_FLAG); property = property->next) {
		switch (property->kind) {
		case XS_ARRAY_BUFFER_KIND:
		case XS_DATE_KIND:
		case XS_MAP_KIND:
		case XS_REGEXP_KIND:
		case XS_SET_KIND:
		case XS_WEAK_MAP_KIND:
		case XS_WEAK_SET_KIND:
			property->flag |= XS_DONT_SET_FLAG;
			break;
		case XS_PRIVATE_KIND:
			for (field = property->value.private.first; field; field = field->next) {
				if (field->kind != XS_ACCESSOR_KIND)
					field->flag |= XS_DONT_SET_FLAG;
				field->flag |= XS_DONT_DELETE_FLAG;
			}
			break;
		}
	}
}

/* What xsl freezes in the preloaded heap: functions (classes' prototypes too) and the instances it cannot alias. */
static void freezeHeap(txMachine *the)
{
	txSlot *heap, *slot, *limit, *internal, *property;

	for (heap = the->firstHeap; heap; heap = heap->next) {
		for (slot = heap + 1, limit = heap->value.reference; slot < limit; slot++) {
			if ((slot->kind != XS_INSTANCE_KIND) || !(internal = slot->next) || !(internal->flag & XS_INTERNAL_FLAG))
				continue;
			if (isFunction(slot)) {
				freeze(slot);
				if (slot->flag & XS_CAN_CONSTRUCT_FLAG)
					for (property = internal->next; property; property = property->next)
						if ((property->ID == mxID(_prototype)) && (property->kind == XS_REFERENCE_KIND))
							freeze(property->value.reference);
			}
			else switch (internal->kind) {
			case XS_MAP_KIND:
			case XS_SET_KIND:
			case XS_WEAK_MAP_KIND:
			case XS_WEAK_SET_KIND:
			case XS_WEAK_REF_KIND:
			case XS_ARRAY_BUFFER_KIND:
			case XS_DATA_VIEW_KIND:
			case XS_TYPED_ARRAY_KIND:
			case XS_PROXY_KIND:
			case XS_REGEXP_KIND:
			case XS_PROMISE_KIND:
				freeze(slot);
				break;
			}
		}
	}
	for (heap = the->firstHeap; heap; heap = heap->next)
		for (slot = heap + 1, limit = heap->value.reference; slot < limit; slot++)
			if ((slot->kind == XS_INSTANCE_KIND) && frozen(the, slot))
				petrify(slot);
	/* A closure variable that holds a function is const: xsl makes it so. */
	for (heap = the->firstHeap; heap; heap = heap->next) {
		for (slot = heap + 1, limit = heap->value.reference; slot < limit; slot++) {
			txSlot *variable;
			if (slot->kind != XS_CLOSURE_KIND)
				continue;
			variable = slot->value.closure;
			if ((variable->kind == XS_REFERENCE_KIND) && isFunction(variable->value.reference))
				variable->flag |= XS_DONT_SET_FLAG;
		}
	}
}

/* The built-ins' prototypes and namespaces, frozen as xsl freezes them after the preload. */
static void freezeBuiltIns(txMachine *the)
{
	txSlot *builtIns[] = {
		&mxAtomicsObject, &mxJSONObject, &mxMathObject, &mxReflectObject,
		&mxObjectPrototype, &mxFunctionPrototype, &mxArrayPrototype, &mxStringPrototype, &mxBooleanPrototype,
		&mxNumberPrototype, &mxDatePrototype, &mxRegExpPrototype, &mxHostPrototype, &mxErrorPrototype,
		&mxEvalErrorPrototype, &mxRangeErrorPrototype, &mxReferenceErrorPrototype, &mxSyntaxErrorPrototype,
		&mxTypeErrorPrototype, &mxURIErrorPrototype, &mxAggregateErrorPrototype, &mxSymbolPrototype,
		&mxArrayBufferPrototype, &mxDataViewPrototype, &mxTypedArrayPrototype, &mxMapPrototype, &mxSetPrototype,
		&mxWeakMapPrototype, &mxWeakSetPrototype, &mxPromisePrototype, &mxBigIntPrototype, &mxWeakRefPrototype,
		&mxFinalizationRegistryPrototype, &mxAsyncFunctionPrototype, &mxGeneratorPrototype,
		&mxGeneratorFunctionPrototype, &mxIteratorPrototype, &mxArrayIteratorPrototype, &mxMapIteratorPrototype,
		&mxRegExpStringIteratorPrototype, &mxSetIteratorPrototype, &mxStringIteratorPrototype,
		&mxAsyncIteratorPrototype, &mxAsyncFromSyncIteratorPrototype, &mxAsyncGeneratorPrototype,
		&mxAsyncGeneratorFunctionPrototype, &mxArgumentsSloppyPrototype, &mxArgumentsStrictPrototype,
	};
	size_t i;

	xsmcVars(2);
	xsmcGet(xsVar(0), xsGlobal, xsID("Object"));
	for (i = 0; i < sizeof(builtIns) / sizeof(builtIns[0]); i++)
		if (builtIns[i]->kind == XS_REFERENCE_KIND)
			xsCall1(xsVar(0), xsID("freeze"), *builtIns[i]);
	for (i = 0; i < mxTypeArrayCount; i++) {
		xsmcGet(xsVar(1), the->stackPrototypes[-1 - gxTypeDispatches[i].constructorID], xsID("prototype"));
		xsCall1(xsVar(0), xsID("freeze"), xsVar(1));
	}
}

/* Bytes in ArrayBuffers (chunks, but data rather than the machine's own structures). */
static xsIntegerValue bufferBytes(txMachine *the)
{
	txSlot *heap, *slot, *limit, *internal;
	xsIntegerValue bytes = 0;

	for (heap = the->firstHeap; heap; heap = heap->next)
		for (slot = heap + 1, limit = heap->value.reference; slot < limit; slot++)
			if ((slot->kind == XS_INSTANCE_KIND) && (internal = slot->next) && (internal->flag & XS_INTERNAL_FLAG) &&
				(internal->kind == XS_ARRAY_BUFFER_KIND) && internal->value.arrayBuffer.address && internal->next && (internal->next->kind == XS_BUFFER_INFO_KIND))
				bytes += internal->next->value.bufferInfo.length;
	return bytes;
}

void hostPreloaded(txMachine *the, xsCreation *creation)
{
	txID keys;
	txSlot **keyArray;

	xsBeginHost(the);
	freezeBuiltIns(the);
	xsEndHost(the);
	xsCollectGarbage();
	freezeHeap(the);

	/* The keys made so far are the device's keys in flash; creation.keys more may be made at run time. */
	gPreloadedKeys = the->keyIndex;
	keys = the->keyIndex + (txID)creation->initialKeyCount;
	keyArray = c_realloc(the->keyArray, (keys - the->keyOffset) * sizeof(txSlot *));
	if (!keyArray)
		fxAbort(the, XS_NOT_ENOUGH_MEMORY_EXIT);
	the->keyArray = keyArray;
	the->keyCount = keys;
	the->keyDelta = (txID)creation->incrementalKeyCount;

	/* The stack: creation.stack slots below the machine's roots, as on the device, where the prototypes are in flash. */
	if (the->stackTop - mxStackIndexCount - creation->stackCount > the->stackBottom)
		the->stackBottom = the->stackTop - mxStackIndexCount - creation->stackCount;

	/* The RAM the device's machine starts with, beyond what the preloaded part holds (flash on the device). */
	gPreloadedSlots = the->currentHeapCount;
	gPreloadedChunks = the->currentChunksSize;
	gPreloadedBuffers = bufferBytes(the);
	fxGrowSlots(the, creation->initialHeapCount);
	fxNewChunk(the, creation->initialChunkSize);	/* a new block of that size, whose chunk the next collection frees */
	xsCollectGarbage();
	the->minimumHeapCount = creation->incrementalHeapCount;
	the->minimumChunksSize = creation->incrementalChunkSize;
	printf("host-device: preloaded %d keys, %d slots, %d chunk bytes\n", gPreloadedKeys, gPreloadedSlots, gPreloadedChunks);
	fflush(stdout);
}

static void hostMemory(txMachine *the, HostMemory *m)
{
	xsCollectGarbage();
	m->keys = the->keyIndex - gPreloadedKeys;
	m->keyLimit = the->keyCount - gPreloadedKeys;
	m->slots = the->currentHeapCount - gPreloadedSlots;
	m->chunks = the->currentChunksSize - gPreloadedChunks;
	m->buffers = bufferBytes(the) - gPreloadedBuffers;
	m->preloadedKeys = gPreloadedKeys;
	m->preloadedSlots = gPreloadedSlots;
	m->preloadedChunks = gPreloadedChunks;
	m->slotSize = (xsIntegerValue)sizeof(txSlot);
}

/* The report a test or bench asks for with SIGUSR1, as one JSON line on stdout. */
void hostReportMemory(txMachine *the)
{
	HostMemory m;
	hostMemory(the, &m);
	printf("host-device: memory {\"keys\":%d,\"keyLimit\":%d,\"slots\":%d,\"chunks\":%d,\"buffers\":%d,\"preloadedKeys\":%d,\"preloadedSlots\":%d,\"preloadedChunks\":%d,\"slotSize\":%d}\n",
		m.keys, m.keyLimit, m.slots, m.chunks, m.buffers, m.preloadedKeys, m.preloadedSlots, m.preloadedChunks, m.slotSize);
	fflush(stdout);
}
